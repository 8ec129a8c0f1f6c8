import CLibISAL
import HuskCore

/// Decompresses a gzip stream with Intel ISA-L's inflate, which is several
/// times faster than zlib (used by libarchive): gunzip was the single
/// largest cost of converting gzip layers (DESIGN.md §7). Checks each
/// member's CRC and length; concatenated members are read in sequence.
final class GzipInflatingSource: ByteSource {
    private let inner: ByteSource
    private let what: String
    private let state: UnsafeMutablePointer<inflate_state>
    private let input: UnsafeMutableRawBufferPointer
    private var innerAtEnd = false
    private var memberFinished = false

    init(_ inner: ByteSource, what: String) {
        self.inner = inner
        self.what = what
        state = .allocate(capacity: 1)
        state.initialize(to: inflate_state())
        input = .allocate(byteCount: 256 << 10, alignment: 64)
        startMember()
    }

    deinit {
        state.deallocate()
        input.deallocate()
    }

    private func startMember() {
        // Initialising clears the input pointers; the next member's first
        // bytes may already be in the buffer.
        let pending = (state.pointee.next_in, state.pointee.avail_in)
        isal_inflate_init(state)
        (state.pointee.next_in, state.pointee.avail_in) = pending
        state.pointee.crc_flag = UInt32(ISAL_GZIP)
        memberFinished = false
    }

    /// Refills the input buffer; false at the end of the compressed stream.
    private func refill() throws -> Bool {
        guard state.pointee.avail_in == 0 else { return true }
        guard !innerAtEnd else { return false }
        let n = try inner.read(into: input)
        if n == 0 {
            innerAtEnd = true
            return false
        }
        state.pointee.next_in = input.baseAddress!.assumingMemoryBound(to: UInt8.self)
        state.pointee.avail_in = UInt32(n)
        return true
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard buffer.count > 0 else { return 0 }
        while true {
            if memberFinished {
                // Another member follows, or the stream ends here.
                guard try refill() else { return 0 }
                startMember()
            }
            let haveInput = try refill()
            state.pointee.next_out = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
            state.pointee.avail_out = UInt32(min(buffer.count, Int(UInt32.max)))
            let status = isal_inflate(state)
            if status < 0 { throw corrupt(status) }
            let produced = buffer.count - Int(state.pointee.avail_out)
            if state.pointee.block_state == ISAL_BLOCK_FINISH { memberFinished = true }
            if produced > 0 { return produced }
            if !haveInput && !memberFinished {
                throw HuskError(.corruptArchive, "\(what): corrupt or truncated archive (the gzip stream ends early)")
            }
        }
    }

    private func corrupt(_ status: Int32) -> HuskError {
        let reason: String
        switch status {
        case ISAL_INCORRECT_CHECKSUM: reason = "gzip checksum mismatch"
        case ISAL_INVALID_WRAPPER: reason = "not a gzip stream"
        default: reason = "invalid deflate data (code \(status))"
        }
        return HuskError(.corruptArchive, "\(what): corrupt or truncated archive (\(reason))")
    }
}
