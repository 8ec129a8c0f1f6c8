import FoundationEssentials
import HuskCore
import HuskOCI

/// Registry signatures in containers' "simple signing" format, as
/// `skopeo copy --sign-by` and `podman push --sign-by` write them: an
/// OpenPGP-signed JSON message that names the manifest digest and the image
/// reference it vouches for. One format of possibly several (cosign's would
/// be another `RegistrySignatureFormat`): each turns a stored signature into
/// a verdict for one image.
public protocol RegistrySignatureFormat {
    /// The signer of `signature` when it is a good signature by a trusted
    /// key for exactly this manifest and reference; else why not.
    func check(_ signature: [UInt8], reference: RegistryReference, manifest: Digest) -> Result<String, SignatureProblem>
}

/// Why a signature does not vouch for an image, most telling first.
public enum SignatureProblem: Error, Comparable, Sendable {
    case otherReference(String)
    case otherDigest(Digest)
    case untrustedKey(String)
    case invalid(String)

    var message: String {
        switch self {
        case .otherReference(let reference): return "its signature is for \(reference)"
        case .otherDigest(let digest): return "its signature is for another image (\(digest))"
        case .untrustedKey(let key): return "it is signed only by a key the site does not trust (\(key))"
        case .invalid(let why): return "its signature is not valid (\(why))"
        }
    }
}

public struct SimpleSigning: RegistrySignatureFormat {
    let pgp: OpenPGP

    public init(trusting pgp: OpenPGP) { self.pgp = pgp }

    struct Payload: Decodable {
        struct Critical: Decodable {
            struct Identity: Decodable {
                var dockerReference: String
                enum CodingKeys: String, CodingKey { case dockerReference = "docker-reference" }
            }
            struct Image: Decodable {
                var dockerManifestDigest: String
                enum CodingKeys: String, CodingKey { case dockerManifestDigest = "docker-manifest-digest" }
            }
            var identity: Identity
            var image: Image
            var type: String
        }
        var critical: Critical
    }

    public func check(_ signature: [UInt8], reference: RegistryReference, manifest: Digest) -> Result<String, SignatureProblem> {
        let verified: (payload: [UInt8], signatures: [OpenPGP.Signature])
        do {
            verified = try pgp.verifyOpaque(signature)
        } catch {
            return .failure(.invalid((error as? HuskError)?.message ?? "\(error)"))
        }
        guard let signer = verified.signatures.first else { return .failure(.invalid("no OpenPGP signature")) }
        if signer.isUnknownKey { return .failure(.untrustedKey(signer.fingerprint)) }
        guard signer.isGood else { return .failure(.invalid(signer.problem ?? "bad signature")) }
        guard let payload = try? JSONDecoder().decode(Payload.self, from: Data(verified.payload)),
              payload.critical.type == "atomic container signature" else {
            return .failure(.invalid("not a containers signature payload"))
        }
        guard let signed = try? Digest(parsing: payload.critical.image.dockerManifestDigest), signed == manifest else {
            return .failure(.otherDigest((try? Digest(parsing: payload.critical.image.dockerManifestDigest)) ?? manifest))
        }
        let identity = payload.critical.identity.dockerReference
        guard let named = try? RegistryReference(parsing: identity), Self.matches(named, reference) else {
            return .failure(.otherReference(identity))
        }
        return .success(signer.fingerprint + (signer.userID.map { " (\($0))" } ?? ""))
    }

    /// containers' default rule (matchRepoDigestOrExact): a reference with
    /// a tag must be named exactly; one by digest needs the same repository.
    static func matches(_ signed: RegistryReference, _ wanted: RegistryReference) -> Bool {
        guard SitePolicy.canonicalRegistry(signed.host) == SitePolicy.canonicalRegistry(wanted.host),
              signed.repository == wanted.repository else { return false }
        return wanted.digest != nil || signed.tag == wanted.tag
    }
}

extension SitePolicy {
    /// Checks the site's signature rule for `reference`, whose manifest is
    /// `manifest`, against `signatures` (from the lookaside store): nothing
    /// when no signature is required; the good signer when one is; else a
    /// refusal naming the image and why. `scratch`: a private directory.
    public func checkSignatures(_ signatures: [[UInt8]], reference: RegistryReference, manifest: Digest,
                                scratch: String) throws -> String? {
        let rule = signatureRule(for: reference.host)
        guard rule.required else { return nil }
        let image = "docker://\(reference)"
        guard !signatures.isEmpty else {
            let store = rule.lookaside.map { " (none in the lookaside store \($0))" } ?? " (the site policy names no lookaside store)"
            throw HuskError(.refused, "refused: \(image) has no signature\(store) and \(named) requires one; use a signed image")
        }
        let format = SimpleSigning(trusting: try OpenPGP.trusting(keyFiles: rule.keys, scratch: scratch))
        var problems: [SignatureProblem] = []
        for signature in signatures {
            switch format.check(signature, reference: reference, manifest: manifest) {
            case .success(let signer): return signer
            case .failure(let problem): problems.append(problem)
            }
        }
        let why = problems.sorted().first.map(\.message) ?? "no good signature"
        throw HuskError(.refused, "refused: \(image): \(why); \(named) requires a signature by one of its trusted keys")
    }
}
