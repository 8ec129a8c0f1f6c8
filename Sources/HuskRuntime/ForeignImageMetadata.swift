import FoundationEssentials
import HuskCore
import HuskOCI

/// Squashfs images and directories that Charliecloud or enroot built carry
/// their metadata in their own conventions, not in `/.husk/`: read where an
/// image has neither Husk's config nor `/.singularity.d` (issue 14), so that
/// such an image runs with its own variables, working directory and command.
///
/// - Charliecloud (`ch-image`): `/ch/metadata.json` (`env`, `cwd`, `labels`),
///   else the `NAME=VALUE` lines of `/ch/environment`. It records no
///   default command (ch-run always takes one), so neither does Husk.
/// - enroot (`enroot import`): `/etc/rc` is what `enroot start` runs, with
///   the command line's arguments, and `/etc/environment` its variables.
///   `/etc/environment` is read only where `/etc/rc` marks an enroot image:
///   in a plain distribution it is PAM's, not the image's.
///
/// The values become the image's layer of Husk's environment rules (an OCI
/// config's Env), below the scheduler's variables and `--env`.
enum ForeignImageMetadata {
    /// The config these conventions give, or nil when the image follows none.
    /// `readFile` reads a file of the image (a path without the leading `/`).
    static func config(image: String, readFile: (String) throws -> [UInt8]?) throws -> ImageConfiguration.ContainerConfig? {
        if let bytes = try readFile("ch/metadata.json") {
            let metadata: CharliecloudMetadata
            do {
                metadata = try JSONDecoder().decode(CharliecloudMetadata.self, from: Data(bytes))
            } catch {
                throw HuskError(.invalidImage, "\(image): /ch/metadata.json is not Charliecloud's metadata (\(error)); rebuild the image with ch-image or convert it")
            }
            var env = metadata.env.map { $0.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" } }
            if env == nil, let bytes = try readFile("ch/environment") {
                env = try assignments(bytes, file: "/ch/environment", image: image)
            }
            return config(env: env, workingDirectory: metadata.cwd, labels: metadata.labels)
        }
        if let bytes = try readFile("ch/environment") {
            return config(env: try assignments(bytes, file: "/ch/environment", image: image))
        }
        if try readFile("etc/rc") != nil {
            let env = try readFile("etc/environment").map { try assignments($0, file: "/etc/environment", image: image) }
            var config = config(env: env)
            config.Entrypoint = ["/bin/sh", "/etc/rc"]
            return config
        }
        return nil
    }

    struct CharliecloudMetadata: Decodable {
        var env: [String: String]?
        var cwd: String?
        var labels: [String: String]?
    }

    static func config(env: [String]?, workingDirectory: String? = nil,
                       labels: [String: String]? = nil) -> ImageConfiguration.ContainerConfig {
        var config = ImageConfiguration.ContainerConfig()
        config.Env = env
        config.WorkingDir = workingDirectory.flatMap { $0.hasPrefix("/") ? $0 : nil }
        config.Labels = labels
        return config
    }

    /// `NAME=VALUE` lines (comments, `export`, quotes as `--env-file` takes them).
    static func assignments(_ bytes: [UInt8], file: String, image: String) throws -> [String] {
        do {
            return try ContainerEnvironment.parseEnvFile(String(decoding: bytes, as: UTF8.self), path: file)
                .map { "\($0.0)=\($0.1)" }
        } catch let error as HuskError {
            throw HuskError(.invalidImage, "\(image): \(error.message)")
        }
    }
}
