import KinerjaDomain

/// One rule of the distribution curve for a unit's rating, against its members' annual predikat.
public struct CurveCheck: Sendable {
    public var rule: CurveRule
    /// How many members have one of the rule's predikat.
    public var count: Int
    public var holds: Bool

    /// Every rule of `rules`' curve for `rating`, judged on `predicates` (one per scored member).
    public static func checks(_ rules: RuleSet, _ rating: UnitRatingCode, _ predicates: [Predicate]) -> [CurveCheck] {
        (rules.curve[rating] ?? []).map { rule in
            let count = predicates.filter { rule.predicates.contains($0) }.count
            return CurveCheck(rule: rule, count: count, holds: rule.holds(count: count, total: predicates.count))
        }
    }
}
