import FoundationEssentials
import Glibc
import HuskCore
import HuskSquash

/// What the cache holds (`husk cache list`) and its cleaning
/// (`husk cache clean`). Entries another job holds the lock of are in use
/// and never removed.
public struct CacheInventory {
    public struct Entry: Codable, Sendable {
        /// `image`, `blob` or `partial` (an interrupted download).
        public var kind: String
        public var digest: String
        public var size: Int64
        public var modified: Date
        public var path: String
        /// Images: the source they were converted from.
        public var reference: String?
    }

    public let root: String

    public init(root: String) { self.root = root }

    public func entries() -> [Entry] {
        var result: [Entry] = []
        for name in Self.list("\(root)/images") where name.hasSuffix(".sqsh") {
            let path = "\(root)/images/\(name)"
            guard var entry = Self.entry(kind: "image", digest: "sha256:" + name.dropLast(5), path: path) else { continue }
            if let reader = try? SquashReader(path: path), let bytes = try? reader.readFile(".husk/source.json"),
               let source = try? JSONDecoder().decode(SourceRecord.self, from: Data(bytes)) {
                entry.reference = source.reference
            }
            result.append(entry)
        }
        for name in Self.list("\(root)/blobs/sha256") where !name.contains(".tmp-") {
            let partial = name.hasSuffix(".partial")
            let hex = partial ? String(name.dropLast(8)) : name
            guard hex.count == 64,
                  let entry = Self.entry(kind: partial ? "partial" : "blob", digest: "sha256:" + hex,
                                         path: "\(root)/blobs/sha256/\(name)") else { continue }
            result.append(entry)
        }
        return result
    }

    /// Removes entries not modified for `olderThan` (all when nil), and
    /// the tags that point into the cache. Returns what went and its size.
    public func clean(olderThan: TimeInterval?) throws -> (count: Int, bytes: Int64) {
        let cutoff = olderThan.map { Date().addingTimeInterval(-$0) }
        var count = 0
        var bytes: Int64 = 0
        for entry in entries() where cutoff.map({ entry.modified < $0 }) ?? true {
            let hex = String(entry.digest.dropFirst(7))
            let lockName = entry.kind == "image" ? "image-\(hex)" : "sha256-\(hex)"
            guard let lock = try FileLock.tryAcquire("\(root)/locks/\(lockName).lock") else { continue }
            defer { lock.release() }
            if unlink(entry.path) == 0 {
                count += 1
                bytes += entry.size
            }
        }
        // Temporary files of writers that died; a live writer's are young.
        let stale = Date().addingTimeInterval(-max(olderThan ?? 3600, 3600))
        for directory in ["\(root)/images", "\(root)/blobs/sha256"] {
            for name in Self.list(directory) where name.contains(".tmp-") {
                let path = "\(directory)/\(name)"
                if let entry = Self.entry(kind: "temp", digest: "", path: path), entry.modified < stale { unlink(path) }
            }
        }
        if olderThan == nil {
            try? FileManager.default.removeItem(atPath: "\(root)/refs")
        }
        return (count, bytes)
    }

    static func list(_ directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
    }

    static func entry(kind: String, digest: String, path: String) -> Entry? {
        var st = stat()
        guard lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        let modified = Date(timeIntervalSince1970: Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9)
        return Entry(kind: kind, digest: digest, size: Int64(st.st_size), modified: modified, path: path)
    }

    /// `30s`, `10m`, `2h`, `7d`, `1w` → seconds.
    public static func parseDuration(_ text: String) throws -> TimeInterval {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800]
        guard let unit = text.last, let factor = units[unit], let value = Double(text.dropLast()), value >= 0 else {
            throw HuskError(.usage, "invalid duration \"\(text)\": write a number and s, m, h, d or w (e.g. 7d)")
        }
        return value * factor
    }
}
