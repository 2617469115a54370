import AccountabilityProjection
import KinerjaDomain
import PropertyBased
import Testing

@Suite("Accountability.mergedOrder: sorted lists merged as their concatenation sorts")
struct MergedOrderTests {
    /// One of 48 keys: 2 years, 3 codes, 4 subjects (two employees; a unit and an identity of
    /// the same code, which tie), 2 seqs. Lists of up to 30 of them tie often, within a list and
    /// across lists.
    static func finding(_ key: Int, list: Int, index: Int) -> Finding {
        let subjects: [Subject] = [
            .employee(NIP(unchecked: "198001012005011001")), .employee(NIP(unchecked: "197501012000011002")), .unit("U-1"), .identity("U-1"),
        ]
        let codes: [FindingCode] = [.noPlacement, .scoreWithoutTarget, .distributionViolation]
        // The message says where the finding was first put: findings that tie are told apart.
        return Finding(
            code: codes[key / 2 % 3], subject: subjects[key / 6 % 4], period: Period(year: 2025 + key / 24), events: [],
            message: "list \(list), \(index)", seq: UInt64(1 + key % 2))
    }

    @Test("lists of findings, each in the order of Accountability.order, merged: the order of their concatenation, ties in the order of the lists")
    func mergedIsStableSortOfJoined() async {
        await propertyCheck(count: 300, input: Gen.int(in: 0..<48).array(of: 0...30).array(of: 0...5)) { keyLists in
            let lists = keyLists.enumerated().map { list, keys in
                let findings = keys.enumerated().map { index, key in Self.finding(key, list: list, index: index) }
                return Accountability.order(findings).map { findings[$0] }
            }
            let joined = Array(lists.joined())
            let merged = Accountability.mergedOrder(lists).map { lists[$0.list][$0.index] }
            #expect(merged == Accountability.order(joined).map { joined[$0] })
        }
    }
}
