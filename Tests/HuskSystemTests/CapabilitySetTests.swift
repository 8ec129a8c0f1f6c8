import Testing
import HuskCore
@testable import HuskSystem

@Suite struct CapabilitySetTests {
    @Test func acceptsLibcapNamesInAnyCase() throws {
        #expect(try CapabilitySet(names: ["CAP_CHOWN"]).mask == 1)
        #expect(try CapabilitySet(names: ["cap_sys_admin"]).mask == 1 << 21)
        #expect(try CapabilitySet(names: ["net_raw"]).mask == 1 << 13)
        #expect(throws: HuskError.self) { try CapabilitySet(names: ["cap_fly"]) }
    }

    @Test func fakerootDefaultIsTheDocumentedSet() {
        #expect(CapabilitySet.fakerootDefault.mask == 0x8024_05fb)
        #expect(CapabilitySet.fakerootDefault.names.contains("CAP_SYS_ADMIN"))
        #expect(!CapabilitySet.fakerootDefault.names.contains("CAP_SYS_MODULE"))
    }

    @Test func addAndDrop() throws {
        var set = CapabilitySet.fakerootDefault
        try set.remove(named: "all")
        #expect(set.mask == 0)
        try set.insert(named: "all")
        #expect(set.names.contains("CAP_SYS_MODULE") && set.mask & 1 == 1)
    }
}
