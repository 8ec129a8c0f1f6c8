/// Writes SIF bytes as the published format lays them out (see SIFFile in
/// HuskCore), so each test can damage exactly one field.
public struct SIFBytes: Sendable {
    public struct Object: Sendable {
        public var type: Int32
        public var data: [UInt8]
        public var fileSystem: Int32 = 1
        public var partitionType: Int32 = 2
        public var arch = "02"
        public var hashType: Int32 = 1
        public var fingerprint: [UInt8] = []
        public var link: UInt32 = 0
        public var name = ""

        public init(type: Int32, data: [UInt8], fileSystem: Int32 = 1, partitionType: Int32 = 2, hashType: Int32 = 1,
                    fingerprint: [UInt8] = [], link: UInt32 = 0) {
            self.type = type
            self.data = data
            self.fileSystem = fileSystem
            self.partitionType = partitionType
            self.hashType = hashType
            self.fingerprint = fingerprint
            self.link = link
        }
    }

    public var objects: [Object]
    public var capacity = 48
    public var version = "01"

    public init(objects: [Object]) { self.objects = objects }

    public static func le<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value.littleEndian) { Array($0) }
    }

    public static func padded(_ text: String, _ count: Int) -> [UInt8] {
        Array((Array(text.utf8) + [UInt8](repeating: 0, count: count)).prefix(count))
    }

    /// The file, and where each object's data starts.
    public func build() -> (bytes: [UInt8], offsets: [Int]) {
        let tableOffset = 4096
        let dataOffset = tableOffset + capacity * 585
        var data: [UInt8] = []
        var offsets: [Int] = []
        var table: [UInt8] = []
        for (index, object) in objects.enumerated() {
            while (dataOffset + data.count) % 4096 != 0 { data.append(0) }
            offsets.append(dataOffset + data.count)
            var d = Self.le(object.type) + [1] + Self.le(UInt32(index + 1)) + Self.le(UInt32(0xf000_0001)) + Self.le(object.link)
            d += Self.le(Int64(dataOffset + data.count)) + Self.le(Int64(object.data.count)) + Self.le(Int64(object.data.count))
            d += Self.le(Int64(1_700_000_000)) + Self.le(Int64(1_700_000_000)) + Self.le(Int64(0)) + Self.le(Int64(0))
            d += Self.padded(object.name, 128)
            var extra: [UInt8] = []
            if object.type == 0x4004 {
                extra = Self.le(object.fileSystem) + Self.le(object.partitionType) + Self.padded(object.arch, 3)
            } else if object.type == 0x4005 {
                extra = Self.le(object.hashType) + object.fingerprint
            }
            d += extra + [UInt8](repeating: 0, count: 384 - extra.count)
            table += d
            data += object.data
        }
        table += [UInt8](repeating: 0, count: (capacity - objects.count) * 585)
        var header = Self.padded("#!/usr/bin/env run-singularity\n", 32) + Self.padded("SIF_MAGIC", 10)
        header += Self.padded(version, 3) + Self.padded("02", 3) + [UInt8](repeating: 0xab, count: 16)
        header += Self.le(Int64(1_700_000_000)) + Self.le(Int64(1_700_000_001))
        header += Self.le(Int64(capacity - objects.count)) + Self.le(Int64(capacity)) + Self.le(Int64(tableOffset))
        header += Self.le(Int64(table.count)) + Self.le(Int64(dataOffset)) + Self.le(Int64(data.count))
        return (header + [UInt8](repeating: 0, count: tableOffset - header.count) + table + data, offsets)
    }
}
