import Foundation
import Testing
import HuskCore
@testable import HuskRuntime

@Suite struct ImageServerTests {
    @Test func idleComesFromHUSK_IDLE() throws {
        #expect(try ImageServer.idleSeconds(environment: [:]) == 30)
        #expect(try ImageServer.idleSeconds(environment: ["HUSK_IDLE": ""]) == 30)
        #expect(try ImageServer.idleSeconds(environment: ["HUSK_IDLE": "0"]) == 0)
        #expect(try ImageServer.idleSeconds(environment: ["HUSK_IDLE": "120"]) == 120)
        for bad in ["soon", "-1", "1.5", "604801"] {
            #expect(throws: HuskError.self) { try ImageServer.idleSeconds(environment: ["HUSK_IDLE": bad]) }
        }
    }

    func plan(_ path: String, fakeroot: Bool = false) -> LaunchPlan {
        var plan = LaunchPlan(name: "app", root: .squashfs(path: path, offset: 0), outsideUID: 1000, outsideGID: 1000,
                              insideUID: fakeroot ? 0 : 1000, insideGID: fakeroot ? 0 : 1000)
        plan.fakeroot = fakeroot
        return plan
    }

    @Test func oneKeyPerImageMappingAndSlurmStep() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("husk-server-key-\(getpid()).sqsh").path
        try Data("image".utf8).write(to: URL(fileURLWithPath: file))
        defer { unlink(file) }
        let key = ImageServer.key(of: plan(file), contentKey: "abc", environment: [:])
        #expect(key != nil && key == ImageServer.key(of: plan(file), contentKey: "abc", environment: [:]))
        #expect(key?.count == 32)
        #expect(key != ImageServer.key(of: plan(file, fakeroot: true), contentKey: "abc", environment: [:]))
        #expect(key != ImageServer.key(of: plan(file), contentKey: "other", environment: [:]))
        let step0 = ImageServer.key(of: plan(file), contentKey: "abc", environment: ["SLURM_JOB_ID": "7", "SLURM_STEP_ID": "0"])
        let step1 = ImageServer.key(of: plan(file), contentKey: "abc", environment: ["SLURM_JOB_ID": "7", "SLURM_STEP_ID": "1"])
        #expect(step0 != key && step0 != step1)
        // A replaced file is another server's, even with the same content key.
        try Data("other image".utf8).write(to: URL(fileURLWithPath: file))
        #expect(key != ImageServer.key(of: plan(file), contentKey: "abc", environment: [:]))
        #expect(ImageServer.key(of: plan(file + ".missing"), contentKey: "abc", environment: [:]) == nil)
    }

    @Test func noServerForDirectoriesOrWithIdleZero() throws {
        var directory = LaunchPlan(name: "app", root: .directory("/srv/tree"), outsideUID: 1, outsideGID: 1,
                                   insideUID: 1, insideGID: 1)
        try ImageServer.attach(to: &directory, contentKey: "k", environment: ["TMPDIR": "/nonexistent"])
        #expect(directory.server == nil)
        var off = plan("/etc/hostname")
        try ImageServer.attach(to: &off, contentKey: "k", environment: ["HUSK_IDLE": "0"])
        #expect(off.server == nil && off.idle == 0)
    }

    @Test func statusReadsTheServersLinesWithAnyImagePath() {
        let text = "pid 42\nfuse 43\ncontainers 3\nidle 30\nstarted 1700000000\nimage /data/my images/a\nb.sqsh\n"
        let status = ImageServer.status(key: "k", text: text)
        #expect(status == .init(key: "k", pid: 42, fuse: 43, containers: 3, idle: 30, started: 1_700_000_000,
                                image: "/data/my images/a\nb.sqsh"))
        #expect(ImageServer.status(key: "k", text: "pid x\n") == nil)
        #expect(ImageServer.status(key: "k", text: "") == nil)
    }
}
