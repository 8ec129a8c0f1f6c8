import CLibCap
import HuskCore

/// A set of Linux capabilities as a bit mask, named as libcap names them
/// (`cap_sys_admin`; `CAP_SYS_ADMIN` and `sys_admin` are accepted too).
public struct CapabilitySet: Equatable, Sendable {
    public var mask: UInt64

    public init(mask: UInt64) { self.mask = mask }

    /// What `--fakeroot` keeps inside its user namespace: Podman's default
    /// set (enough to install packages: change owners and modes, switch ids,
    /// bind low ports) plus CAP_SYS_ADMIN, which inside a user namespace
    /// only reaches that namespace's own mounts and host name (the default
    /// seccomp filter still refuses mount and unshare unless --allow-nested
    /// or seccomp=unconfined is asked for).
    public static let fakerootDefault = CapabilitySet(bits: [
        0 /* chown */, 1 /* dac_override */, 3 /* fowner */, 4 /* fsetid */, 5 /* kill */, 6 /* setgid */,
        7 /* setuid */, 8 /* setpcap */, 10 /* net_bind_service */, 18 /* sys_chroot */, 21 /* sys_admin */,
        31 /* setfcap */,
    ])

    /// From capability numbers (kernel ABI, <linux/capability.h>).
    init(bits: [Int]) {
        mask = bits.reduce(0) { $0 | (1 << UInt64($1)) }
    }

    public init(names: [String]) throws {
        mask = 0
        for name in names { try insert(named: name) }
    }

    public mutating func insert(named name: String) throws { mask |= try Self.bits(of: name) }
    public mutating func remove(named name: String) throws { mask &= ~(try Self.bits(of: name)) }

    /// One capability's bit, or every bit for `all`.
    static func bits(of name: String) throws -> UInt64 {
        var text = name.lowercased()
        if text == "all" { return UInt64.max >> (63 - UInt64(lastCapability)) }
        if !text.hasPrefix("cap_") { text = "cap_" + text }
        var value: cap_value_t = 0
        guard cap_from_name(text, &value) == 0, value >= 0, value < 64 else {
            throw HuskError(.usage, "unknown capability \"\(name)\": use libcap names such as CAP_NET_BIND_SERVICE, or all")
        }
        return 1 << UInt64(value)
    }

    /// The highest capability this libcap knows.
    static var lastCapability: Int {
        var last = 0
        while last < 63, let name = cap_to_name(cap_value_t(last + 1)) {
            defer { cap_free(name) }
            let text = String(cString: name)
            guard text.hasPrefix("cap_") else { break }  // libcap prints unknown ones as numbers
            last += 1
        }
        return last
    }

    /// libcap names, upper case (`CAP_SYS_ADMIN`), as seccomp profiles write them.
    public var names: Set<String> {
        var result: Set<String> = []
        for bit in 0..<64 where mask & (1 << UInt64(bit)) != 0 {
            if let name = cap_to_name(cap_value_t(bit)) {
                result.insert(String(cString: name).uppercased())
                cap_free(name)
            }
        }
        return result
    }
}
