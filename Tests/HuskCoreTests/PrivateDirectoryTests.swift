import Foundation
import Testing
@testable import HuskCore

/// The checks on Husk's state directories (DESIGN.md §3, trust boundary 2).
/// What needs another user (a directory they own) is in
/// Integration/security/test-trust-boundaries.sh, with a second account.
@Suite struct PrivateDirectoryTests {
    /// A fresh 0700 directory of this user's, under the (sticky) temp directory.
    func scratch() throws -> String {
        let path = NSTemporaryDirectory() + "husk-private-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false,
                                                attributes: [.posixPermissions: 0o700])
        return path
    }

    func mode(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? -1
    }

    func message(_ body: () throws -> Void) -> String {
        do { try body() } catch let error as HuskError { return error.message } catch { return "\(error)" }
        return "no error"
    }

    @Test func createsMissingDirectoriesPrivate() throws {
        let base = try scratch()
        defer { try? FileManager.default.removeItem(atPath: base) }
        let made = try PrivateDirectory.prepare(base + "/a/b/husk", what: "the test")
        #expect(made == base + "/a/b/husk")
        for path in [base + "/a", base + "/a/b", made] { #expect(try mode(path) == 0o700) }
        // Again: it exists and passes.
        #expect(try PrivateDirectory.prepare(made, what: "the test") == made)
    }

    @Test func refusesADirectoryOthersCanRead() throws {
        let base = try scratch()
        defer { try? FileManager.default.removeItem(atPath: base) }
        try FileManager.default.createDirectory(atPath: base + "/open", withIntermediateDirectories: false,
                                                attributes: [.posixPermissions: 0o755])
        let text = message { try PrivateDirectory.prepare(base + "/open", what: "the test") }
        #expect(text.contains("has mode 0755") && text.contains("chmod 700 \(base)/open"))
    }

    @Test func refusesAnAncestorOthersCanWrite() throws {
        let base = try scratch()
        defer { try? FileManager.default.removeItem(atPath: base) }
        try FileManager.default.createDirectory(atPath: base + "/shared", withIntermediateDirectories: false,
                                                attributes: [.posixPermissions: 0o777])
        chmod(base + "/shared", 0o777)  // past the umask
        let text = message { try PrivateDirectory.prepare(base + "/shared/husk", what: "the test") }
        #expect(text.contains("\(base)/shared can be written by others"))
        #expect(!FileManager.default.fileExists(atPath: base + "/shared/husk"), "nothing made in it")
        // Sticky (like /tmp): nobody else can rename or remove what is ours there.
        chmod(base + "/shared", 0o1777)
        #expect(throws: Never.self) { try PrivateDirectory.prepare(base + "/shared/husk", what: "the test") }
    }

    @Test func followsOwnSymlinksAndChecksTheirTargets() throws {
        let base = try scratch()
        defer { try? FileManager.default.removeItem(atPath: base) }
        try FileManager.default.createDirectory(atPath: base + "/real", withIntermediateDirectories: false,
                                                attributes: [.posixPermissions: 0o700])
        symlink(base + "/real", base + "/link")  // like /home -> /export/home
        #expect(try PrivateDirectory.prepare(base + "/link/husk", what: "the test") == base + "/real/husk")
        // A symlink as the directory itself leads to a directory that must pass too.
        try FileManager.default.createDirectory(atPath: base + "/wide", withIntermediateDirectories: false,
                                                attributes: [.posixPermissions: 0o755])
        symlink(base + "/wide", base + "/husk-link")
        #expect(message { try PrivateDirectory.prepare(base + "/husk-link", what: "the test") }.contains("mode 0755"))
    }

    @Test func refusesAFileInThePath() throws {
        let base = try scratch()
        defer { try? FileManager.default.removeItem(atPath: base) }
        FileManager.default.createFile(atPath: base + "/file", contents: Data())
        #expect(message { try PrivateDirectory.prepare(base + "/file/husk", what: "the test") }.contains("is not a directory"))
    }

    @Test func inspectCreatesNothing() throws {
        let base = try scratch()
        defer { try? FileManager.default.removeItem(atPath: base) }
        #expect(try PrivateDirectory.inspect(base + "/a/husk", what: "the test")
                == .absent(first: base + "/a", creatable: true))
        #expect(!FileManager.default.fileExists(atPath: base + "/a"))
        try PrivateDirectory.prepare(base + "/a/husk", what: "the test")
        #expect(try PrivateDirectory.inspect(base + "/a/husk", what: "the test") == .ready(base + "/a/husk"))
        // The same refusals as prepare.
        chmod(base + "/a/husk", 0o755)
        #expect(message { _ = try PrivateDirectory.inspect(base + "/a/husk", what: "the test") }.contains("has mode 0755"))
    }
}
