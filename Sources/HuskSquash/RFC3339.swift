import Glibc

/// Seconds since the epoch of an RFC 3339 time, as OCI configs carry in
/// `created`: `2024-05-01T12:00:00Z`, with any fraction (Go writes
/// nanoseconds) and `Z` or a `±HH:MM` offset. Parsed by hand: Foundation's
/// ISO8601DateFormatter loads ICU, 2–3 ms of every conversion's start.
enum RFC3339 {
    static func seconds(_ text: String) -> Int64? {
        let b = Array(text.utf8)
        func number(_ at: Int, _ count: Int) -> Int? {
            guard at + count <= b.count else { return nil }
            var value = 0
            for c in b[at..<(at + count)] {
                guard c >= 0x30, c <= 0x39 else { return nil }
                value = value * 10 + Int(c - 0x30)
            }
            return value
        }
        func char(_ at: Int, _ allowed: String) -> Bool {
            at < b.count && allowed.utf8.contains(b[at])
        }
        guard let year = number(0, 4), char(4, "-"), let month = number(5, 2), char(7, "-"),
              let day = number(8, 2), char(10, "Tt "), let hour = number(11, 2), char(13, ":"),
              let minute = number(14, 2), char(16, ":"), let second = number(17, 2),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var i = 19
        if char(i, ".") {
            i += 1
            let start = i
            while char(i, "0123456789") { i += 1 }
            guard i > start else { return nil }
        }
        var offset = 0
        if char(i, "Zz") {
            i += 1
        } else if char(i, "+-"), let oh = number(i + 1, 2), char(i + 3, ":"), let om = number(i + 4, 2) {
            offset = (b[i] == UInt8(ascii: "-") ? -1 : 1) * (oh * 3600 + om * 60)
            i += 6
        } else {
            return nil
        }
        guard i == b.count else { return nil }
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = Int32(second)
        return Int64(timegm(&parts)) - Int64(offset)
    }

    /// `2024-05-01T12:00:00Z` for seconds since the epoch (UTC).
    static func string(_ seconds: Int64) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T"
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
    }
}
