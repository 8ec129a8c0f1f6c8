import Foundation
import Testing
import HuskCore
@testable import HuskSquash

@Suite struct PrefetchingSourceTests {
    var payload: [UInt8] { (0..<1_000_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) } }

    @Test(arguments: [(1000, 1), (4096, 2), (65536, 8)])
    func bytesComeOutInOrder(chunkSize: Int, depth: Int) throws {
        let source = try PrefetchingSource(ChunkedSource(payload), chunkSize: chunkSize, depth: depth)
        #expect(try source.readAll(what: "payload") == payload)
    }

    @Test func lentAndCopiedReadsInterleaveInOrder() throws {
        // libarchive borrows whole chunks; other readers copy part of one.
        let source = try PrefetchingSource(ChunkedSource(payload), chunkSize: 3000, depth: 2)
        var received: [UInt8] = []
        var scratch = [UInt8](repeating: 0, count: 10)
        var small = [UInt8](repeating: 0, count: 777)
        for turn in 0... {
            if turn % 3 == 0 {
                let n = try small.withUnsafeMutableBytes { try source.read(into: $0) }
                if n == 0 { break }
                received += small[0..<n]
            } else {
                let lent = try scratch.withUnsafeMutableBytes { try source.readBorrowed(scratch: $0) }
                if lent.isEmpty { break }
                #expect(lent.count <= 3000)
                received += lent
            }
        }
        #expect(received == payload)
    }

    @Test func theInnerErrorArrivesWhereItHappened() throws {
        let bytes = Array(payload.prefix(200_000))
        // A digest check fails at the last byte, as a layer with a wrong digest does.
        let wrong = Digest.sha256(of: [1, 2, 3])
        let source = try PrefetchingSource(VerifyingByteSource(ChunkedSource(bytes), digest: wrong, size: nil, what: "layer"),
                                       chunkSize: 4096, depth: 4)
        var received = 0
        var buffer = [UInt8](repeating: 0, count: 1000)
        let error = #expect(throws: HuskError.self) {
            while true {
                let n = try buffer.withUnsafeMutableBytes { try source.read(into: $0) }
                if n == 0 { break }
                received += n
            }
        }
        #expect(error?.code == .digestMismatch)
        // Everything before the failing read was handed out, nothing after it.
        #expect(received <= bytes.count)
        #expect(received >= bytes.count - 4096)
    }

    @Test func droppingTheReaderEarlyStopsTheProducer() throws {
        let inner = CountingSource(size: 64 << 20)
        do {
            let source = try PrefetchingSource(inner, chunkSize: 4096, depth: 2)
            var buffer = [UInt8](repeating: 0, count: 100)
            _ = try buffer.withUnsafeMutableBytes { try source.read(into: $0) }
        }
        // deinit waited for the producer, which stopped at the queue's bound.
        #expect(inner.served < 1 << 20)
    }
}

/// Zeros, counting what was read.
final class CountingSource: ByteSource, @unchecked Sendable {
    let size: Int
    private(set) var served = 0
    init(size: Int) { self.size = size }
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = min(buffer.count, size - served)
        if n > 0 { buffer.baseAddress!.initializeMemory(as: UInt8.self, repeating: 0, count: n) }
        served += n
        return n
    }
}
