import Testing
import HuskCore
import HuskOCI
@testable import HuskTrust

@Suite struct SignaturePolicyTests {
    @Test func perRegistryRulesOverTheGlobalOnes() throws {
        let policy = try SitePolicy(parsing: """
            require_signature = true
            trusted_keys = ["/etc/husk/keys/ci.asc"]
            lookaside = "https://sigs.example.org"

            [registries."docker.io"]
            require_signature = false

            [registries."registry.example.org:5000"]
            trusted_keys = ["/etc/husk/keys/other.asc"]
            lookaside = "file:///lustre/sigs"
            """, path: "/p")
        #expect(policy.signatureRule(for: "quay.example.org") == (true, ["/etc/husk/keys/ci.asc"], "https://sigs.example.org"))
        #expect(policy.signatureRule(for: "index.docker.io").required == false)
        let other = policy.signatureRule(for: "registry.example.org:5000")
        #expect(other.required && other.keys == ["/etc/husk/keys/other.asc"] && other.lookaside == "file:///lustre/sigs")
    }

    @Test(arguments: [
        ("require_signature = true", "without trusted_keys"),
        ("[registries.\"r.example\"]\nrequire_signature = true", "require_signature for r.example without trusted_keys"),
        ("trusted_keys = [\"keys/ci.asc\"]", "is not an absolute path"),
        ("[registries.\"r.example\"]\nlookasid = \"x\"", "unknown key \"registries.\"r.example\".lookasid\""),
    ])
    func refusesRulesThatCouldNeverHold(_ text: String, _ expected: String) {
        var message = "no error"
        do { _ = try SitePolicy(parsing: text, path: "/p") } catch let error as HuskError { message = error.message } catch {}
        #expect(message.contains(expected), "\(message)")
    }

    @Test func signedNamesMatchAsContainersDo() throws {
        let signed = try RegistryReference(parsing: "registry.example.org/lab/app:1")
        #expect(SimpleSigning.matches(signed, try RegistryReference(parsing: "registry.example.org/lab/app:1")))
        #expect(!SimpleSigning.matches(signed, try RegistryReference(parsing: "registry.example.org/lab/app:2")))
        #expect(!SimpleSigning.matches(signed, try RegistryReference(parsing: "registry.example.org/lab/other:1")))
        let byDigest = try RegistryReference(parsing: "registry.example.org/lab/app@sha256:" + String(repeating: "a", count: 64))
        #expect(SimpleSigning.matches(signed, byDigest), "by digest: the repository is enough")
        #expect(SimpleSigning.matches(try RegistryReference(parsing: "docker.io/library/busybox:1"),
                                      try RegistryReference(parsing: "index.docker.io/library/busybox:1")))
    }
}
