/// Debian package versions (`[epoch:]upstream[-revision]`) ordered as dpkg
/// orders them (deb-version(7)): advisories say "fixed in 3.0.13-1~deb12u1",
/// and `~` sorts before everything, even the end of the string.
public struct DebianVersion: Comparable, CustomStringConvertible, Sendable {
    public let epoch: Int
    public let upstream: String
    public let revision: String
    public let description: String

    public init(_ text: String) {
        description = text
        var rest = Substring(text)
        if let colon = rest.firstIndex(of: ":"), let value = Int(rest[..<colon]) {
            epoch = value
            rest = rest[rest.index(after: colon)...]
        } else {
            epoch = 0
        }
        if let dash = rest.lastIndex(of: "-") {
            upstream = String(rest[..<dash])
            revision = String(rest[rest.index(after: dash)...])
        } else {
            upstream = String(rest)
            revision = ""
        }
    }

    public static func < (a: DebianVersion, b: DebianVersion) -> Bool { compare(a, b) < 0 }
    public static func == (a: DebianVersion, b: DebianVersion) -> Bool { compare(a, b) == 0 }

    /// -1, 0 or 1, as `dpkg --compare-versions` decides.
    public static func compare(_ a: DebianVersion, _ b: DebianVersion) -> Int {
        if a.epoch != b.epoch { return a.epoch < b.epoch ? -1 : 1 }
        let upstream = compareParts(a.upstream, b.upstream)
        return upstream != 0 ? upstream : compareParts(a.revision, b.revision)
    }

    /// dpkg's verrevcmp: alternate non-digit runs (compared by `order`) and
    /// digit runs (compared as numbers).
    static func compareParts(_ a: String, _ b: String) -> Int {
        let x = Array(a.utf8), y = Array(b.utf8)
        var i = 0, j = 0
        while i < x.count || j < y.count {
            var firstDifference = 0
            while (i < x.count && !isDigit(x[i])) || (j < y.count && !isDigit(y[j])) {
                let ac = i < x.count ? order(x[i]) : 0, bc = j < y.count ? order(y[j]) : 0
                if ac != bc { return ac < bc ? -1 : 1 }
                i += 1
                j += 1
            }
            while i < x.count && x[i] == UInt8(ascii: "0") { i += 1 }
            while j < y.count && y[j] == UInt8(ascii: "0") { j += 1 }
            while i < x.count && isDigit(x[i]) && j < y.count && isDigit(y[j]) {
                if firstDifference == 0 && x[i] != y[j] { firstDifference = x[i] < y[j] ? -1 : 1 }
                i += 1
                j += 1
            }
            if i < x.count && isDigit(x[i]) { return 1 }
            if j < y.count && isDigit(y[j]) { return -1 }
            if firstDifference != 0 { return firstDifference }
        }
        return 0
    }

    static func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }

    /// `~` first, then the end of a part and digits, then letters, then the rest.
    static func order(_ c: UInt8) -> Int {
        if isDigit(c) { return 0 }
        if (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z")) {
            return Int(c)
        }
        if c == UInt8(ascii: "~") { return -1 }
        return Int(c) + 256
    }
}
