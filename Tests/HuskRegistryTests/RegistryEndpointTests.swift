import Foundation
import Testing
import HuskCore
import HuskOCI
@testable import HuskRegistry

@Suite struct RegistryEndpointTests {
    let environment = ["HOME": "/nonexistent", "XDG_CONFIG_HOME": "/nonexistent/config"]

    @Test(arguments: ["localhost", "localhost:5000", "127.0.0.1:5000", "127.1.2.3", "[::1]:5000", "::1"])
    func loopback(_ name: String) {
        #expect(RegistryEndpoint.isLoopback(name))
    }

    @Test(arguments: ["registry.example.org", "10.0.0.1:5000", "localhost.example.org", "[fe80::1]:5000"])
    func notLoopback(_ name: String) {
        #expect(!RegistryEndpoint.isLoopback(name))
    }

    @Test func plainHTTPOnlyForLoopbackOrListed() throws {
        var settings = RegistrySettings(environment: environment)
        settings.insecure = true
        #expect(try !RegistryEndpoint(name: "127.0.0.1:5000", settings: settings).useTLS)
        #expect(throws: HuskError.self) { try RegistryEndpoint(name: "registry.example.org", settings: settings) }
        var listed = RegistrySettings(environment: environment)
        listed.insecureRegistries = ["registry.example.org", "other:5000"]  // the site policy's
        #expect(try !RegistryEndpoint(name: "registry.example.org", settings: listed).useTLS)
        #expect(try RegistryEndpoint(name: "third.example.org", settings: listed).useTLS)
    }

    @Test func dockerHubUsesItsAPIHost() throws {
        let endpoint = try RegistryEndpoint(name: "docker.io", settings: RegistrySettings(environment: environment))
        #expect(endpoint.baseURL == "https://registry-1.docker.io")
    }

    @Test func missingCACertificateIsNamed() {
        var settings = RegistrySettings(environment: environment)
        settings.caCertificates = ["/nonexistent/ca.crt"]
        let error = #expect(throws: HuskError.self) { try RegistryEndpoint(name: "reg:5000", settings: settings) }
        #expect(error?.message.contains("--ca-cert") == true)
    }

    @Test func certsDirectoryIsPerRegistry() throws {
        let dir = NSTemporaryDirectory() + "husk-certs-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: "\(dir)/husk/certs.d/reg:5000", withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: "\(dir)/husk/certs.d/reg:5000/ca.crt", contents: Data())
        let settings = RegistrySettings(environment: ["HOME": dir, "XDG_CONFIG_HOME": dir])
        #expect(try RegistryEndpoint(name: "reg:5000", settings: settings).caCertificates == ["\(dir)/husk/certs.d/reg:5000/ca.crt"])
        #expect(try RegistryEndpoint(name: "reg:5001", settings: settings).caCertificates.isEmpty)
    }
}
