#if canImport(Glibc)
import Glibc
#endif

// Trimming, padding and number formatting without swift-corelibs-foundation:
// its CharacterSet, padding(toLength:) and String(format:) link the whole of
// it, with ICU, into every husk start (README, "Where a start's time goes").

extension StringProtocol {
    /// Without the leading and trailing characters that are in `characters`.
    public func trimming(_ characters: String) -> String {
        trimming { characters.contains($0) }
    }

    /// Without leading and trailing spaces, tabs and line ends.
    public var trimmingWhitespace: String { trimming { $0.isWhitespace } }

    public func trimming(where isTrimmed: (Character) -> Bool) -> String {
        var slice = Substring(self)
        while let first = slice.first, isTrimmed(first) { slice = slice.dropFirst() }
        while let last = slice.last, isTrimmed(last) { slice = slice.dropLast() }
        return String(slice)
    }

    /// Exactly `width` characters: cut, or filled with spaces, as table columns need.
    public func padded(toWidth width: Int) -> String {
        count >= width ? String(prefix(width)) : String(self) + String(repeating: " ", count: width - count)
    }
}

public enum NumberText {
    /// `value` with one decimal, as printf's `%.1f` for the sizes and rates Husk prints.
    public static func oneDecimal(_ value: Double) -> String {
        let tenths = Int((abs(value) * 10).rounded())
        return "\(value < 0 && tenths > 0 ? "-" : "")\(tenths / 10).\(tenths % 10)"
    }

    /// `value` in hexadecimal with at least `digits` digits, upper case.
    public static func hex<T: BinaryInteger>(_ value: T, digits: Int) -> String {
        let text = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }

    /// `value` in decimal with at least `digits` digits.
    public static func zeroPadded<T: BinaryInteger>(_ value: T, digits: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }

    /// `2024-05-01T12:00:00Z` (or with a space and no zone, for tables) for
    /// seconds since the epoch, in UTC.
    public static func utcTime(_ seconds: Int, separator: String = "T", zone: Bool = true) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        let date = "\(zeroPadded(parts.tm_year + 1900, digits: 4))-\(zeroPadded(parts.tm_mon + 1, digits: 2))-\(zeroPadded(parts.tm_mday, digits: 2))"
        let clock = "\(zeroPadded(parts.tm_hour, digits: 2)):\(zeroPadded(parts.tm_min, digits: 2)):\(zeroPadded(parts.tm_sec, digits: 2))"
        return date + separator + clock + (zone ? "Z" : "")
    }
}

/// Writes to the standard streams directly (write(2)), as FileHandle did:
/// unbuffered, so a message is out before the process execs or exits.
public enum StandardStream {
    public static func writeError(_ text: String) { write(2, Array(text.utf8)) }
    public static func writeOutput(_ bytes: [UInt8]) { write(1, bytes) }

    private static func write(_ fd: Int32, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, bytes.count - offset) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return }
            offset += n
        }
    }
}
