import Foundation
import Testing
import HuskCore
@testable import HuskRuntime

@Suite struct CacheInventoryTests {
    @Test(arguments: [("30s", 30.0), ("10m", 600.0), ("2h", 7200.0), ("7d", 604800.0), ("1w", 604800.0), ("1.5h", 5400.0)])
    func durations(_ text: String, _ seconds: Double) throws {
        #expect(try CacheInventory.parseDuration(text) == seconds)
    }

    @Test(arguments: ["", "7", "d", "-1d", "3y"])
    func badDurations(_ text: String) {
        #expect(throws: HuskError.self) { try CacheInventory.parseDuration(text) }
    }

    @Test func cleanKeepsLockedAndRecentEntries() throws {
        let root = NSTemporaryDirectory() + "husk-inv-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        for dir in ["blobs/sha256", "locks", "images"] {
            try FileManager.default.createDirectory(atPath: "\(root)/\(dir)", withIntermediateDirectories: true)
        }
        let old = String(repeating: "a", count: 64), busy = String(repeating: "b", count: 64), fresh = String(repeating: "c", count: 64)
        for hex in [old, busy, fresh] {
            FileManager.default.createFile(atPath: "\(root)/blobs/sha256/\(hex)", contents: Data([1, 2, 3]))
        }
        for hex in [old, busy] {
            var times = [timespec(tv_sec: 1_000_000, tv_nsec: 0), timespec(tv_sec: 1_000_000, tv_nsec: 0)]
            utimensat(AT_FDCWD, "\(root)/blobs/sha256/\(hex)", &times, 0)
        }
        let lock = try #require(try FileLock.tryAcquire("\(root)/locks/sha256-\(busy).lock"))
        let inventory = CacheInventory(root: root)
        #expect(inventory.entries().count == 3)
        let (count, bytes) = try inventory.clean(olderThan: 86400)
        #expect(count == 1)
        #expect(bytes == 3)
        #expect(Set(inventory.entries().map(\.digest)) == ["sha256:\(busy)", "sha256:\(fresh)"])
        lock.release()
        #expect(try inventory.clean(olderThan: nil).count == 2)
        #expect(inventory.entries().isEmpty)
    }
}
