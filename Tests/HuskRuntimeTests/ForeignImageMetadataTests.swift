import Testing
import HuskCore
@testable import HuskRuntime

@Suite struct ForeignImageMetadataTests {
    func config(_ files: [String: String]) throws -> (env: [String]?, cwd: String?, labels: [String: String]?, entrypoint: [String]?)? {
        guard let config = try ForeignImageMetadata.config(image: "img", readFile: { files[$0].map { Array($0.utf8) } }) else {
            return nil
        }
        return (config.Env, config.WorkingDir, config.Labels, config.Entrypoint)
    }

    @Test func charliecloudMetadataGivesVariablesWorkingDirectoryAndLabels() throws {
        let got = try #require(try config([
            "ch/metadata.json": #"{"arch": "amd64", "cwd": "/work", "env": {"PATH": "/opt/bin:/usr/bin", "A": "1"}, "labels": {"v": "2"}, "shell": ["/bin/sh", "-c"], "volumes": []}"#,
            "ch/environment": "IGNORED=1\n",
        ]))
        #expect(got.env == ["A=1", "PATH=/opt/bin:/usr/bin"])
        #expect(got.cwd == "/work" && got.labels == ["v": "2"] && got.entrypoint == nil)
    }

    @Test func charliecloudEnvironmentFileAloneOrUnderMetadataWithoutEnv() throws {
        #expect(try config(["ch/environment": "# from ENV\nA=1\nexport B=\"two words\"\n"])?.env == ["A=1", "B=two words"])
        #expect(try config(["ch/metadata.json": #"{"cwd": "relative"}"#, "ch/environment": "A=1\n"])?.env == ["A=1"])
        #expect(try config(["ch/metadata.json": #"{"cwd": "relative"}"#])?.cwd == nil, "only absolute directories")
    }

    @Test func enrootRcRunsWithTheImagesEnvironment() throws {
        let got = try #require(try config(["etc/rc": "exec \"$@\"\n", "etc/environment": "PATH=/usr/local/bin:/usr/bin\nLANG=C.UTF-8\n"]))
        #expect(got.entrypoint == ["/bin/sh", "/etc/rc"])
        #expect(got.env == ["PATH=/usr/local/bin:/usr/bin", "LANG=C.UTF-8"])
    }

    @Test func aPlainDistributionsEtcEnvironmentIsNotTheImages() throws {
        #expect(try config(["etc/environment": "PATH=/x\n", "etc/passwd": "root:x:0:0::/root:/bin/sh\n"]) == nil)
    }

    @Test func damagedMetadataIsOneLineNamingTheImage() {
        #expect(throws: HuskError.self) { try config(["ch/metadata.json": "{not json"]) }
        #expect(throws: HuskError.self) { try config(["ch/environment": "no assignment here\n"]) }
        do {
            _ = try config(["etc/rc": "", "etc/environment": "1BAD=x\n"])
            Issue.record("expected an error")
        } catch let error as HuskError {
            #expect(error.code == .invalidImage && error.message.hasPrefix("img: /etc/environment:1"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}
