import FoundationEssentials

/// Any JSON document, for the few files whose shape Husk does not own
/// (Docker's config.json, Singularity's labels.json) and for documents it
/// builds as nested dictionaries (SBOMs). Read and written with
/// FoundationEssentials' JSONDecoder and JSONEncoder: JSONSerialization is
/// in swift-corelibs-foundation, which links ICU into every husk start.
public enum JSONValue: Codable, Equatable, Sendable {
    case null
    case bool(Bool)
    case integer(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Int64.self) { self = .integer(value) }
        else if let value = try? container.decode(Double.self) { self = .double(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .integer(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    /// The document in `bytes`, or nil when it is not JSON.
    public static func parse(_ bytes: [UInt8]) -> JSONValue? {
        try? JSONDecoder().decode(JSONValue.self, from: Data(bytes))
    }

    /// UTF-8 JSON with keys sorted; `pretty` indents it (two spaces).
    public func encoded(pretty: Bool = false, escapingSlashes: Bool = true) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        if pretty { encoder.outputFormatting.insert(.prettyPrinted) }
        if !escapingSlashes { encoder.outputFormatting.insert(.withoutEscapingSlashes) }
        return Array(try encoder.encode(self))
    }

    /// From nested `[String: Any]`, `[Any]`, strings, numbers, booleans and
    /// `JSONValue`s, as code builds a document; nil for anything else.
    public init?(_ any: Any) {
        switch any {
        case let value as JSONValue: self = value
        case let value as String: self = .string(value)
        case let value as Bool: self = .bool(value)
        case let value as Int: self = .integer(Int64(value))
        case let value as Int64: self = .integer(value)
        case let value as Double: self = .double(value)
        case let value as [Any]:
            var items: [JSONValue] = []
            for item in value {
                guard let converted = JSONValue(item) else { return nil }
                items.append(converted)
            }
            self = .array(items)
        case let value as [String: Any]:
            var members: [String: JSONValue] = [:]
            for (key, item) in value {
                guard let converted = JSONValue(item) else { return nil }
                members[key] = converted
            }
            self = .object(members)
        default: return nil
        }
    }

    /// As nested `[String: Any]`, `[Any]`, String, Int64, Double and Bool
    /// (null stays `JSONValue.null`): what `init?(_ any:)` takes back.
    public var any: Any {
        switch self {
        case .null: return JSONValue.null
        case .bool(let value): return value
        case .integer(let value): return value
        case .double(let value): return value
        case .string(let value): return value
        case .array(let items): return items.map(\.any)
        case .object(let members): return members.mapValues(\.any)
        }
    }

    /// The members of an object, else nil.
    public var object: [String: JSONValue]? {
        if case .object(let members) = self { return members }
        return nil
    }

    /// The text of a string, else nil.
    public var string: String? {
        if case .string(let text) = self { return text }
        return nil
    }
}
