import Foundation
import Testing
@testable import HuskCore

@Suite struct AtomicOutputFileTests {
    func scratchDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "husk-atomic-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func commitRenamesIntoPlace() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let output = try AtomicOutputFile(finalPath: "\(dir)/image.sqsh")
        #expect(output.temporaryPath.hasPrefix("\(dir)/image.sqsh.tmp-"))
        try Data("data".utf8).write(to: URL(fileURLWithPath: output.temporaryPath))
        try output.commit()
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["image.sqsh"])
    }

    @Test func discardLeavesNothing() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        do {
            let output = try AtomicOutputFile(finalPath: "\(dir)/image.sqsh")
            #expect(FilePath.exists(output.temporaryPath))
        }  // dropped without commit, as on an error
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
    }

    @Test func missingDirectoryIsAClearError() throws {
        let error = try #require(throws: HuskError.self) {
            try AtomicOutputFile(finalPath: "/nonexistent-husk-dir/out.sqsh")
        }
        #expect(error.message.contains("cannot write"))
    }

    @Test(.enabled(if: getuid() != 0, "root can write to any directory"))
    func unwritableDirectoryIsAClearError() throws {
        let dir = try scratchDirectory()
        defer {
            chmod(dir, 0o755)
            try? FileManager.default.removeItem(atPath: dir)
        }
        chmod(dir, 0o555)
        let error = try #require(throws: HuskError.self) { try AtomicOutputFile(finalPath: "\(dir)/out.sqsh") }
        #expect(error.message.contains("cannot write"))
    }
}
