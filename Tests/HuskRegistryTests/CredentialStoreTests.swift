import Foundation
import Testing
import HuskCore
@testable import HuskRegistry

@Suite struct CredentialStoreTests {
    func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "husk-cred-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func storesPrivatelyAndReadsBack() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = CredentialStore(environment: ["XDG_CONFIG_HOME": dir, "HOME": dir])
        let credentials = RegistryCredentials(username: "ada", password: "p:a:ss")
        try store.store(credentials, for: "127.0.0.1:5000")
        #expect(store.huskFile == "\(dir)/husk/auth.json")
        var st = stat()
        #expect(stat(store.huskFile, &st) == 0)
        #expect(st.st_mode & 0o777 == 0o600)
        let text = try String(contentsOfFile: store.huskFile, encoding: .utf8)
        #expect(!text.contains("p:a:ss"))
        #expect(try store.lookup("127.0.0.1:5000") == credentials)
        #expect(try store.lookup("127.0.0.1:5001") == nil)
        #expect(try store.remove("127.0.0.1:5000"))
        #expect(try store.lookup("127.0.0.1:5000") == nil)
        #expect(try !store.remove("127.0.0.1:5000"))
    }

    @Test func readsDockerConfigIncludingHubKey() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let auth = Data("bob:hunter2".utf8).base64EncodedString()
        let config = #"{"auths":{"https://index.docker.io/v1/":{"auth":"\#(auth)"},"gitlab.example.org":{"auth":"\#(auth)"}}}"#
        try FileManager.default.createDirectory(atPath: "\(dir)/docker", withIntermediateDirectories: true)
        try config.write(toFile: "\(dir)/docker/config.json", atomically: true, encoding: .utf8)
        let store = CredentialStore(environment: ["XDG_CONFIG_HOME": dir, "DOCKER_CONFIG": "\(dir)/docker", "HOME": dir])
        #expect(try store.lookup("docker.io") == RegistryCredentials(username: "bob", password: "hunter2"))
        #expect(try store.lookup("gitlab.example.org")?.username == "bob")
        // Husk's own file wins over Docker's.
        try store.store(RegistryCredentials(username: "carol", password: "x"), for: "gitlab.example.org")
        #expect(try store.lookup("gitlab.example.org")?.username == "carol")
    }

    @Test func malformedAuthIsAnErrorNamingTheFile() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: "\(dir)/husk", withIntermediateDirectories: true)
        try #"{"auths":{"reg":{"auth":"!!!"}}}"#.write(toFile: "\(dir)/husk/auth.json", atomically: true, encoding: .utf8)
        let store = CredentialStore(environment: ["XDG_CONFIG_HOME": dir, "HOME": dir])
        let error = try #require(throws: HuskError.self) { try store.lookup("reg") }
        #expect(error.message.contains("auth.json"))
    }
}
