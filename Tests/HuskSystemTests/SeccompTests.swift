import Foundation
import Testing
import HuskCore
@testable import HuskSystem

@Suite struct SeccompTests {
    @Test func defaultProfileCompilesToWholeInstructions() throws {
        let filter = try SeccompFilter(.init())
        #expect(filter.program.count > 0 && filter.program.count % 8 == 0)
    }

    @Test func allowNestedAndPidNamespaceRelaxTheDefault() {
        var options = SeccompFilter.Options()
        let strict = SeccompFilter.defaultRules(options).1.flatMap(\.names)
        #expect(strict.contains("mount") && strict.contains("unshare") && strict.contains("ptrace"))
        #expect(strict.contains("keyctl") && strict.contains("kexec_load") && strict.contains("bpf"))
        options.allowNested = true
        options.pidNamespace = true
        let relaxed = SeccompFilter.defaultRules(options).1.flatMap(\.names)
        #expect(!relaxed.contains("mount") && !relaxed.contains("ptrace") && !relaxed.contains("clone"))
        #expect(relaxed.contains("keyctl"), "kernel attack surface stays closed")
    }

    func profile(_ json: String) throws -> SeccompProfile {
        try JSONDecoder().decode(SeccompProfile.self, from: Data(json.utf8))
    }

    @Test func capabilityConditionalRulesFollowTheContainersCapabilities() throws {
        let text = """
            {"defaultAction":"SCMP_ACT_ERRNO","syscalls":[
              {"names":["read","write"],"action":"SCMP_ACT_ALLOW"},
              {"names":["mount"],"action":"SCMP_ACT_ALLOW","includes":{"caps":["CAP_SYS_ADMIN"]}},
              {"names":["chroot"],"action":"SCMP_ACT_ALLOW","excludes":{"caps":["CAP_SYS_CHROOT"]}}]}
            """
        let unprivileged = try profile(text).filter(capabilities: [], path: "p")
        let fakeroot = try profile(text).filter(capabilities: ["CAP_SYS_ADMIN", "CAP_SYS_CHROOT"], path: "p")
        #expect(unprivileged.program != fakeroot.program)
    }

    @Test(arguments: [
        #"{"defaultAction":"SCMP_ACT_EXPLODE"}"#,
        #"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO","args":[{"index":0,"value":1,"op":"SCMP_CMP_SIMILAR"}]}]}"#,
    ])
    func rejectsUnknownActionsAndComparisons(_ json: String) throws {
        #expect(throws: HuskError.self) { try profile(json).filter(capabilities: [], path: "p") }
    }

    @Test func errnoActionEncodesTheCode() {
        #expect(SeccompFilter.Action.errno(EPERM).rawValue == 0x0005_0001)
        #expect(SeccompFilter.Action.allow.rawValue == 0x7fff_0000)
    }
}
