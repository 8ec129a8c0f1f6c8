import Testing
import HuskCore
@testable import HuskOCI

@Suite struct ImageReferenceTests {
    let digest = "sha256:" + String(repeating: "0", count: 64)

    @Test func ociLayoutForms() throws {
        #expect(try ImageReference(parsing: "oci:/data/img") == .ociLayout(path: "/data/img", selector: nil))
        #expect(try ImageReference(parsing: "oci:img:v1") == .ociLayout(path: "img", selector: .tag("v1")))
        #expect(try ImageReference(parsing: "oci:img@\(digest)")
                == .ociLayout(path: "img", selector: .digest(try Digest(parsing: digest))))
        #expect(try ImageReference(parsing: "oci-archive:x.tar:latest") == .ociArchive(path: "x.tar", selector: .tag("latest")))
    }

    @Test func dockerArchiveKeepsRepoAndTag() throws {
        #expect(try ImageReference(parsing: "docker-archive:save.tar") == .dockerArchive(path: "save.tar", repoTag: nil))
        #expect(try ImageReference(parsing: "docker-archive:save.tar:busybox:test")
                == .dockerArchive(path: "save.tar", repoTag: "busybox:test"))
    }

    @Test func registryNormalizesLikeDocker() throws {
        guard case .registry(let hub) = try ImageReference(parsing: "docker://busybox") else {
            Issue.record("not a registry reference"); return
        }
        #expect(hub.description == "docker.io/library/busybox:latest")
        let local = try RegistryReference(parsing: "localhost:5000/group/app:1.2")
        #expect(local.host == "localhost:5000")
        #expect(local.repository == "group/app")
        #expect(local.tag == "1.2")
        let pinned = try RegistryReference(parsing: "gitlab.example.org/a/b@\(digest)")
        #expect(pinned.tag == nil)
        #expect(pinned.digest?.description == digest)
    }

    @Test(arguments: ["busybox", "oci:", "docker://UPPER/case", "docker://a//b", "oci:x@sha256:zz", "oci:x:"])
    func rejectsMalformed(_ text: String) {
        #expect(throws: HuskError.self) { try ImageReference(parsing: text) }
    }

    @Test func platformParsingAndMatching() throws {
        let arm = try Platform(parsing: "linux/arm64/v8")
        #expect(arm.variant == "v8")
        #expect(Platform(os: "linux", architecture: "arm64").satisfies(arm))
        #expect(!Platform(os: "linux", architecture: "amd64").satisfies(arm))
        #expect(throws: HuskError.self) { try Platform(parsing: "linux") }
        #expect(throws: HuskError.self) { try Platform(parsing: "linux//v7") }
    }
}
