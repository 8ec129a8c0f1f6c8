#if canImport(Glibc)
import Glibc
#endif
import HuskCore

/// The invoking user as the password database describes them.
public struct UserIdentity: Equatable, Sendable {
    public var uid: UInt32
    public var gid: UInt32
    public var name: String
    public var groupName: String
    public var gecos: String
    public var home: String
    public var shell: String

    public init(uid: UInt32, gid: UInt32, name: String, groupName: String, gecos: String, home: String, shell: String) {
        self.uid = uid
        self.gid = gid
        self.name = name
        self.groupName = groupName
        self.gecos = gecos
        self.home = home
        self.shell = shell
    }

    /// From getpwuid/getgrgid; a uid without an entry (possible on clusters
    /// with broken NSS) still runs, as `uidNNN` with $HOME or /.
    public static func current() -> UserIdentity {
        let uid = getuid(), gid = getgid()
        var name = "uid\(uid)", gecos = "", home = "/", shell = "/bin/sh", groupName = "gid\(gid)"
        if let entry = getpwuid(uid) {
            name = String(cString: entry.pointee.pw_name)
            gecos = String(cString: entry.pointee.pw_gecos)
            home = String(cString: entry.pointee.pw_dir)
            shell = String(cString: entry.pointee.pw_shell)
        } else if let env = getenv("HOME") {
            home = String(cString: env)
        }
        if let group = getgrgid(gid) { groupName = String(cString: group.pointee.gr_name) }
        return UserIdentity(uid: uid, gid: gid, name: name, groupName: groupName, gecos: gecos, home: home, shell: shell)
    }

    /// As seen inside: yourself, or root with `--fakeroot`.
    public func inside(fakeroot: Bool) -> UserIdentity {
        guard fakeroot else { return self }
        return UserIdentity(uid: 0, gid: 0, name: "root", groupName: "root", gecos: "root", home: "/root", shell: shell)
    }
}

/// `/etc/passwd` and `/etc/group` for the container: the image's entries,
/// with the user's own replacing any of the same name or id, and `nogroup`
/// for supplementary groups the user namespace cannot map.
public enum IdentityFiles {
    public static let overflowID: UInt32 = 65534

    public static func passwd(image: String?, user: UserIdentity) -> String {
        var lines = entries(of: image, without: user.name, id: user.uid)
        lines.append("\(user.name):x:\(user.uid):\(user.gid):\(user.gecos):\(user.home):\(user.shell)")
        return lines.joined(separator: "\n") + "\n"
    }

    public static func group(image: String?, user: UserIdentity) -> String {
        var lines = entries(of: image, without: user.groupName, id: user.gid)
        lines.append("\(user.groupName):x:\(user.gid):\(user.name)")
        if !lines.contains(where: { $0.split(separator: ":", omittingEmptySubsequences: false).dropFirst(2).first == "\(overflowID)" }) {
            lines.append("nogroup:x:\(overflowID):")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The lines of a passwd/group file, minus the entry named `name` or with id `id`.
    static func entries(of file: String?, without name: String, id: UInt32) -> [String] {
        (file ?? "").split(separator: "\n").map(String.init).filter { line in
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count >= 3 else { return true }
            return fields[0] != name && fields[2] != "\(id)"
        }
    }
}
