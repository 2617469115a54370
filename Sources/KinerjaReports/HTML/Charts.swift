import AppraisalCore
import KinerjaDomain

/// The pages' charts, drawn as inline SVG by this small code (no library, nothing fetched).
/// Every mark carries a class a test can count: `bar` (one per value), `point` and `replaced`
/// (one per predikat shown), `limit` (one per bound), `seg` (one per predikat of a unit),
/// `breach` (a bar that breaks its bound).
public enum Chart {
    /// One horizontal bar per item, its value written beside it; a dashed line at `limit`.
    /// An item marked `breach` is drawn in red.
    public struct Bar: Sendable {
        public var label: String
        public var value: Double
        public var breach: Bool

        public init(_ label: String, _ value: Double, breach: Bool = false) {
            self.label = label
            self.value = value
            self.breach = breach
        }
    }

    public static func bars(_ items: [Bar], limit: (value: Double, label: String)? = nil, title: String, format: (Double) -> String = { $0.plainText }) -> String {
        let labelWidth = 290.0, barWidth = 300.0, row = 22.0, top = limit == nil ? 8.0 : 22.0
        let width = labelWidth + barWidth + 70
        let height = top + row * Double(max(items.count, 1)) + 8
        let maximum = max(items.map(\.value).max() ?? 0, limit?.value ?? 0, 1)
        func x(_ value: Double) -> Double { labelWidth + barWidth * value / maximum }
        var svg = open(width, height, title)
        for (index, item) in items.enumerated() {
            let y = top + row * Double(index)
            svg += "<text x=\"\(n(labelWidth - 6))\" y=\"\(n(y + 15))\" text-anchor=\"end\">\(escapeHTML(clip(item.label, 46)))</text>"
            svg += "<rect class=\"bar\(item.breach ? " breach" : "")\" x=\"\(n(labelWidth))\" y=\"\(n(y + 4))\" width=\"\(n(x(item.value) - labelWidth))\" height=\"\(n(row - 8))\">"
            svg += "<title>\(escapeHTML(item.label)): \(escapeHTML(format(item.value)))</title></rect>"
            svg += "<text x=\"\(n(x(item.value) + 4))\" y=\"\(n(y + 15))\">\(escapeHTML(format(item.value)))</text>\n"
        }
        svg += "<line class=\"axis\" x1=\"\(n(labelWidth))\" y1=\"\(n(top))\" x2=\"\(n(labelWidth))\" y2=\"\(n(height - 8))\"/>"
        if let limit {
            svg += "<line class=\"limit\" x1=\"\(n(x(limit.value)))\" y1=\"\(n(top - 6))\" x2=\"\(n(x(limit.value)))\" y2=\"\(n(height - 4))\"/>"
            svg += "<text x=\"\(n(x(limit.value)))\" y=\"12\" text-anchor=\"middle\">\(escapeHTML(limit.label))</text>"
        }
        return svg + "</svg>"
    }

    /// One vertical column per item (every item drawn, a zero as an empty column): activity per month.
    public static func columns(_ items: [Bar], title: String) -> String {
        let left = 36.0, column = 44.0, plot = 150.0, top = 14.0
        let width = left + column * Double(max(items.count, 1)) + 10
        let height = top + plot + 34
        let maximum = max(items.map(\.value).max() ?? 0, 1)
        var svg = open(width, height, title)
        svg += "<line class=\"axis\" x1=\"\(n(left))\" y1=\"\(n(top + plot))\" x2=\"\(n(width - 6))\" y2=\"\(n(top + plot))\"/>"
        svg += "<text x=\"\(n(left - 4))\" y=\"\(n(top + 4))\" text-anchor=\"end\">\(maximum.plainText)</text>"
        svg += "<text x=\"\(n(left - 4))\" y=\"\(n(top + plot))\" text-anchor=\"end\">0</text>\n"
        for (index, item) in items.enumerated() {
            let h = plot * item.value / maximum
            let x = left + column * Double(index) + 6
            svg += "<rect class=\"bar\(item.value == 0 ? " zero" : "")\" x=\"\(n(x))\" y=\"\(n(top + plot - h))\" width=\"\(n(column - 12))\" height=\"\(n(h))\">"
            svg += "<title>\(escapeHTML(item.label)): \(item.value.plainText)</title></rect>"
            if item.value > 0 {
                svg += "<text x=\"\(n(x + (column - 12) / 2))\" y=\"\(n(top + plot - h - 3))\" text-anchor=\"middle\">\(item.value.plainText)</text>"
            }
            svg += "<text x=\"\(n(x + (column - 12) / 2))\" y=\"\(n(top + plot + 16))\" text-anchor=\"middle\">\(escapeHTML(clip(item.label, 5)))</text>\n"
        }
        return svg + "</svg>"
    }

    /// Predikat per period over time: one column per period, one row per predikat (best at the
    /// top); the standing predikat a filled `point`, joined by a line; each predikat it replaced an
    /// open `replaced` circle.
    public struct Step: Sendable {
        public var period: String
        public var predicate: Predicate?
        public var replaced: [Predicate]

        public init(period: String, predicate: Predicate?, replaced: [Predicate] = []) {
            self.period = period
            self.predicate = predicate
            self.replaced = replaced
        }
    }

    public static func predicates(_ steps: [Step], labels: Labels, title: String) -> String {
        let left = 130.0, column = 78.0, row = 26.0, top = 12.0
        let levels = Predicate.allCases
        let width = left + column * Double(max(steps.count, 1)) + 10
        let height = top + row * Double(levels.count) + 26
        func y(_ predicate: Predicate) -> Double { top + row * Double(levels.firstIndex(of: predicate)!) + row / 2 }
        func x(_ index: Int) -> Double { left + column * Double(index) + column / 2 }
        var svg = open(width, height, title)
        for predicate in levels {
            svg += "<line class=\"grid\" x1=\"\(n(left))\" y1=\"\(n(y(predicate)))\" x2=\"\(n(width - 6))\" y2=\"\(n(y(predicate)))\"/>"
            svg += "<text x=\"\(n(left - 6))\" y=\"\(n(y(predicate) + 4))\" text-anchor=\"end\">\(escapeHTML(labels[.predicate(predicate)]))</text>\n"
        }
        let standing = steps.enumerated().compactMap { index, step in step.predicate.map { (x(index), y($0)) } }
        if standing.count > 1 {
            svg += "<polyline class=\"line\" points=\"" + standing.map { "\(n($0.0)),\(n($0.1))" }.joined(separator: " ") + "\"/>\n"
        }
        for (index, step) in steps.enumerated() {
            for (offset, old) in step.replaced.enumerated() {
                svg += "<circle class=\"replaced\" cx=\"\(n(x(index) - 10 - 6 * Double(offset)))\" cy=\"\(n(y(old)))\" r=\"4\"><title>\(escapeHTML(step.period)): \(escapeHTML(labels[.predicate(old)]))</title></circle>"
            }
            if let predicate = step.predicate {
                svg += "<circle class=\"point\" cx=\"\(n(x(index)))\" cy=\"\(n(y(predicate)))\" r=\"6\"><title>\(escapeHTML(step.period)): \(escapeHTML(labels[.predicate(predicate)]))</title></circle>"
            }
            svg += "<text x=\"\(n(x(index)))\" y=\"\(n(height - 8))\" text-anchor=\"middle\">\(escapeHTML(step.period))</text>\n"
        }
        return svg + "</svg>"
    }

    /// A unit's annual predikat against its curve: a 100% bar of the five predikat (`seg`), then
    /// one bar per rule of the curve showing the share it counts, with its bound (`limit`) and,
    /// where the rule fails, the bar in red and a mark (`breach`).
    public struct UnitCurve: Sendable {
        public var unit: String
        public var counts: [Int]
        public var checks: [CurveCheck]

        public init(unit: String, counts: [Int], checks: [CurveCheck]) {
            self.unit = unit
            self.counts = counts
            self.checks = checks
        }
    }

    public static func distribution(_ units: [UnitCurve], labels: Labels, title: String) -> String {
        let left = 250.0, plot = 320.0, row = 20.0
        var height = 28.0
        for unit in units { height += row + row * Double(unit.checks.count) + 10 }
        let width = left + plot + 140
        var svg = open(width, height, title)
        var y = 8.0
        for (index, predicate) in Predicate.allCases.enumerated() {
            let x = 10 + Double(index) * 128
            svg += "<rect class=\"seg-\(predicate.rawValue)\" x=\"\(n(x))\" y=\"\(n(y))\" width=\"10\" height=\"10\"/><text x=\"\(n(x + 13))\" y=\"\(n(y + 9))\">\(escapeHTML(clip(labels[.predicate(predicate)], 18)))</text>"
        }
        y += 20
        for unit in units {
            let total = unit.counts.reduce(0, +)
            svg += "<text x=\"\(n(left - 6))\" y=\"\(n(y + 14))\" text-anchor=\"end\" font-weight=\"600\">\(escapeHTML(clip(unit.unit, 24)))</text>"
            var x = left
            for (index, predicate) in Predicate.allCases.enumerated() {
                let w = total == 0 ? 0 : plot * Double(unit.counts[index]) / Double(total)
                svg += "<rect class=\"seg seg-\(predicate.rawValue)\" x=\"\(n(x))\" y=\"\(n(y + 3))\" width=\"\(n(w))\" height=\"\(n(row - 6))\">"
                svg += "<title>\(escapeHTML(unit.unit)): \(escapeHTML(labels[.predicate(predicate)])) \(unit.counts[index])</title></rect>"
                x += w
            }
            svg += "<text x=\"\(n(left + plot + 6))\" y=\"\(n(y + 14))\">n = \(total)</text>\n"
            y += row
            for check in unit.checks {
                let share = total == 0 ? 0 : Double(check.count) / Double(total)
                let bound: Double
                switch check.rule.bound {
                case .atMost(let percent), .atLeast(let percent): bound = Double(percent) / 100
                case .atLeastOne: bound = total == 0 ? 0 : 1 / Double(total)
                }
                svg += "<text x=\"\(n(left - 6))\" y=\"\(n(y + 13))\" text-anchor=\"end\" font-size=\"10\">\(escapeHTML(clip(labels.rule(check.rule), 46)))</text>"
                svg += "<rect class=\"bar\(check.holds ? "" : " breach")\" x=\"\(n(left))\" y=\"\(n(y + 5))\" width=\"\(n(plot * share))\" height=\"\(n(row - 10))\">"
                svg += "<title>\(escapeHTML(labels.rule(check.rule))): \(check.count)/\(total)</title></rect>"
                svg += "<line class=\"limit\" x1=\"\(n(left + plot * bound))\" y1=\"\(n(y + 1))\" x2=\"\(n(left + plot * bound))\" y2=\"\(n(y + row - 1))\"/>"
                if !check.holds {
                    svg += "<text class=\"breach-mark\" x=\"\(n(left + plot + 6))\" y=\"\(n(y + 13))\">✗ \(escapeHTML(labels[.breach]))</text>"
                }
                svg += "\n"
                y += row
            }
            y += 10
        }
        return svg + "</svg>"
    }

    // MARK: Helpers

    private static func open(_ width: Double, _ height: Double, _ title: String) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" viewBox=\"0 0 \(n(width)) \(n(height))\" width=\"\(n(width))\" height=\"\(n(height))\">"
            + "<title>\(escapeHTML(title))</title>\n"
    }

    /// A coordinate with at most one decimal.
    static func n(_ value: Double) -> String {
        let rounded = (value * 10).rounded() / 10
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }

    private static func clip(_ text: String, _ length: Int) -> String {
        text.count <= length ? text : String(text.prefix(length - 1)) + "…"
    }
}
