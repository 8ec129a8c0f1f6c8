import Foundation
import Testing
import HuskCore
@testable import HuskTrust

@Suite struct SitePolicyTests {
    let base = Digest(sha256Hex: String(repeating: "ab", count: 32))
    let other = Digest(sha256Hex: String(repeating: "cd", count: 32))

    func message(_ body: () throws -> Void) -> String {
        do { try body() } catch let error as HuskError { return error.message } catch { return "\(error)" }
        return "no error"
    }

    @Test func parsesEveryKey() throws {
        let policy = try SitePolicy(parsing: """
            allowed_registries = ["registry.example.org", "docker.io"]
            insecure_registries = ["registry.local:5000"]
            site_binds = ["/lustre", "/nfs/apps:/apps:ro"]
            user_binds_allowed_under = ["/home", "/scratch/"]
            env_passthrough_extra = ["LMOD_*", "MODULEPATH"]
            allow_fakeroot = false
            allow_extract = false

            [[revoked]]
            digest = "\(base)"
            reason = "openssl CVE-2024-0001"
            replacement = "docker://registry.example.org/base:patched"

            [[revoked]]
            digest = "\(other)"
            reason = "withdrawn"
            """, path: "/etc/husk/husk.toml")
        #expect(policy.allowedRegistries == ["registry.example.org", "docker.io"])
        #expect(policy.insecureRegistries == ["registry.local:5000"])
        #expect(policy.siteBinds == ["/lustre", "/nfs/apps:/apps:ro"])
        #expect(policy.userBindsAllowedUnder == ["/home", "/scratch/"])
        #expect(policy.envPassthroughExtra == ["LMOD_*", "MODULEPATH"])
        #expect(!policy.allowFakeroot && !policy.allowExtract)
        #expect(policy.revoked == [.init(digest: base, reason: "openssl CVE-2024-0001",
                                         replacement: "docker://registry.example.org/base:patched"),
                                   .init(digest: other, reason: "withdrawn")])
    }

    @Test func anEmptyFileRestrictsNothing() throws {
        let policy = try SitePolicy(parsing: "", path: "/p")
        #expect(policy.allowedRegistries == nil && policy.allowFakeroot && policy.allowExtract && policy.revoked.isEmpty)
    }

    /// A typo must not silently weaken the site's policy.
    @Test(arguments: [
        ("allow_fakroot = false", "unknown key \"allow_fakroot\""),
        ("allowed_registries = \"docker.io\"", "allowed_registries must be an array of strings"),
        ("allow_extract = \"no\"", "allow_extract must be true or false"),
        ("[[revoked]]\ndigest = \"sha256:12\"\nreason = \"x\"", "revoked[0] needs digest"),
        ("[[revoked]]\ndigest = \"sha256:\(String(repeating: "0", count: 64))\"", "revoked[0] needs a reason"),
        ("[[revoked]]\ndigest = \"sha256:\(String(repeating: "0", count: 64))\"\nreason = \"x\"\nreplace = \"y\"",
         "unknown key \"revoked[0].replace\""),
        ("user_binds_allowed_under = [\"home\"]", "is not an absolute path"),
        ("allowed_registries = [", "site policy /p:"),
    ])
    func refusesWhatItCannotEnforce(_ text: String, _ expected: String) {
        #expect(message { _ = try SitePolicy(parsing: text, path: "/p") }.contains(expected))
    }

    @Test func revocationNamesTheLayerTheReasonAndTheReplacement() {
        var policy = SitePolicy()
        policy.revoked = [.init(digest: base, reason: "openssl CVE-2024-0001", replacement: "docker://reg/base:patched")]
        let built = ImageDigests(manifest: other, config: other, layers: [other, base], diffIDs: [])
        let text = message { try policy.checkRevocation(of: "app", built) }
        #expect(text == "refused: app is built on layer sha256:abababababab… which is revoked (openssl CVE-2024-0001); use docker://reg/base:patched")
        // By uncompressed digest too: the same base recompressed.
        let recompressed = ImageDigests(manifest: nil, config: other, layers: [other], diffIDs: [base])
        #expect(message { try policy.checkRevocation(of: "app", recompressed) }.contains("built on layer"))
        let fine = ImageDigests(manifest: other, config: other, layers: [other], diffIDs: [other])
        #expect(message { try policy.checkRevocation(of: "app", fine) } == "no error")
        policy.revoked = [.init(digest: base, reason: "withdrawn")]
        let itself = ImageDigests(manifest: base, config: other, layers: [], diffIDs: [])
        #expect(message { try policy.checkRevocation(of: "app", itself) }
            == "refused: app (manifest sha256:abababababab…) is revoked (withdrawn); ask your administrator what replaces it")
    }

    @Test func registriesAreMatchedByName() throws {
        var policy = SitePolicy()
        #expect(message { try policy.checkRegistry("anything.example", image: "x") } == "no error")
        policy.allowedRegistries = ["docker.io", "Registry.Example.org:5000"]
        for host in ["docker.io", "index.docker.io", "registry-1.docker.io", "registry.example.org:5000"] {
            #expect(message { try policy.checkRegistry(host, image: "x") } == "no error", "\(host)")
        }
        let refused = message { try policy.checkRegistry("registry.example.org", image: "docker://registry.example.org/a:1") }
        #expect(refused.hasPrefix("refused: docker://registry.example.org/a:1 comes from registry.example.org"))
    }

    @Test func optionsAndUserBinds() throws {
        var policy = SitePolicy()
        policy.path = "/etc/husk/husk.toml"
        policy.allowFakeroot = false
        #expect(message { try policy.checkOptions(fakeroot: true, extract: false) }.contains("--fakeroot is not allowed by the site policy (/etc/husk/husk.toml)"))
        #expect(message { try policy.checkOptions(fakeroot: false, extract: true) } == "no error")
        policy.userBindsAllowedUnder = ["/tmp"]
        let tmp = NSTemporaryDirectory()
        #expect(message { try policy.checkUserBind(source: tmp) } == "no error")
        #expect(message { try policy.checkUserBind(source: "/etc") }.contains("-B /etc is not under a directory"))
        #expect(message { try policy.checkUserBind(source: "/tmpfoo") }.contains("not under"), "a prefix of the name is not a parent")
    }

    @Test func aPolicyFileRootDoesNotOwnIsRefused() throws {
        guard getuid() != 0 else { return }  // as root every file is root's: the integration tests cover it
        let path = NSTemporaryDirectory() + "husk-policy-\(UUID().uuidString).toml"
        FileManager.default.createFile(atPath: path, contents: Data("allow_fakeroot = false\n".utf8))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(message { _ = try SitePolicy.load(environment: ["HUSK_CONFIG": path]) }.contains("not root"))
    }
}
