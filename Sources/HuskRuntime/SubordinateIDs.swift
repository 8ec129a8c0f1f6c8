#if canImport(Glibc)
import Glibc
#endif
import HuskCore

/// `/etc/subuid` and `/etc/subgid` ranges for `--fakeroot`: with them (and
/// the setuid `newuidmap`/`newgidmap` from Debian's uidmap package) ids
/// 1…COUNT inside map to the user's range, so files an image owns by other
/// users keep their owners; without them only uid 0 is mapped.
public struct SubordinateIDs: Equatable, Sendable {
    public var uidStart: UInt64, uidCount: UInt64
    public var gidStart: UInt64, gidCount: UInt64
    public var newuidmap: String, newgidmap: String

    /// The first `NAME:START:COUNT` (or `UID:START:COUNT`) line for the user.
    static func range(in text: String, name: String, id: UInt32) -> (UInt64, UInt64)? {
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count == 3, fields[0] == name || fields[0] == "\(id)",
                  let start = UInt64(fields[1]), let count = UInt64(fields[2]), count > 0 else { continue }
            return (start, count)
        }
        return nil
    }

    static let helperDirectories = ["/usr/bin", "/usr/sbin", "/bin", "/sbin"]

    /// A setuid-root helper in a system directory (a user-writable one could
    /// lie); under `root` in tests.
    static func helper(_ name: String, root: String = "") -> String? {
        for directory in helperDirectories {
            var st = stat()
            let path = "\(root)\(directory)/\(name)"
            if stat(path, &st) == 0, st.st_uid == 0, st.st_mode & S_ISUID != 0 { return path }
        }
        return nil
    }

    public static func lookup(user: UserIdentity, subuid: String = "/etc/subuid",
                              subgid: String = "/etc/subgid") -> SubordinateIDs? {
        func read(_ path: String) -> String? {
            (try? FileByteSource(path: path).readAll(limit: 1 << 20, what: path)).map { String(decoding: $0, as: UTF8.self) }
        }
        guard let uidText = read(subuid), let gidText = read(subgid),
              let (uidStart, uidCount) = range(in: uidText, name: user.name, id: user.uid),
              let (gidStart, gidCount) = range(in: gidText, name: user.name, id: user.uid),
              let newuidmap = helper("newuidmap"), let newgidmap = helper("newgidmap") else { return nil }
        return SubordinateIDs(uidStart: uidStart, uidCount: uidCount, gidStart: gidStart, gidCount: gidCount,
                              newuidmap: newuidmap, newgidmap: newgidmap)
    }
}
