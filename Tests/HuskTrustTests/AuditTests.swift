import Foundation
import Testing
import HuskCore
@testable import HuskTrust

@Suite struct DebianVersionTests {
    static let pairs: [(String, String)] = [
        ("1.0", "1.0"), ("1.0", "1.1"), ("1.0~rc1", "1.0"), ("1.0", "1.0-1"), ("1:0.1", "2.0"),
        ("3.0.11-1~deb12u2", "3.0.13-1~deb12u1"), ("3.0.11-1~deb12u2", "3.0.11-1"), ("2.36-9+deb12u4", "2.36-9"),
        ("1.2.13.dfsg-1", "1:1.2.12-1"), ("1.0a", "1.0+"), ("1.0.", "1.0"), ("1.0010", "1.9"), ("0", "0~"),
        ("a", "b"), ("1.0-1ubuntu1", "1.0-1"), ("7.88.1-10+deb12u5", "7.88.1-10+deb12u12"), ("1~~", "1~"),
    ]

    /// The same answers as `dpkg --compare-versions`, where dpkg exists.
    @Test func ordersAsDpkgDoes() throws {
        let dpkg = "/usr/bin/dpkg"
        guard FileManager.default.isExecutableFile(atPath: dpkg) else { return }
        for (a, b) in Self.pairs {
            let ours = DebianVersion.compare(DebianVersion(a), DebianVersion(b))
            for (op, expected) in [("lt", ours < 0), ("eq", ours == 0), ("gt", ours > 0)] {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: dpkg)
                process.arguments = ["--compare-versions", a, op, b]
                try process.run()
                process.waitUntilExit()
                #expect((process.terminationStatus == 0) == expected, "\(a) \(op) \(b)")
            }
        }
    }

    @Test func knownOrders() {
        #expect(DebianVersion("1.0~rc1") < DebianVersion("1.0"))
        #expect(DebianVersion("1:0.1") > DebianVersion("9.9"))
        #expect(DebianVersion("1.0010") == DebianVersion("1.10"))
    }
}

@Suite struct AdvisoryTests {
    let debian = PackageInventory.OperatingSystem(id: "debian", versionID: "12", prettyName: nil)
    let libssl = PackageInventory.Package(type: "deb", name: "libssl3", version: "3.0.11-1~deb12u2",
                                          architecture: "amd64", source: "openssl", sourceVersion: "3.0.11-1~deb12u2")

    func advisory(_ ecosystem: String, _ events: [[String: String]], versions: [String]? = nil) -> Advisory {
        Advisory(id: "DSA-1", aliases: ["CVE-2024-0001"], summary: nil, affected: [
            .init(package: .init(ecosystem: ecosystem, name: "openssl"),
                  ranges: [.init(type: "ECOSYSTEM", events: events)], versions: versions),
        ])
    }

    @Test func fixedLaterAffectsFixedEarlierDoesNot() {
        #expect(advisory("Debian:12", [["introduced": "0"], ["fixed": "3.0.13-1~deb12u1"]]).affects(libssl, os: debian)
            == "3.0.13-1~deb12u1")
        #expect(advisory("Debian:12", [["introduced": "0"], ["fixed": "3.0.11-1~deb12u1"]]).affects(libssl, os: debian) == nil)
        #expect(advisory("Debian:12", [["introduced": "0"]]).affects(libssl, os: debian) == "", "no fix yet")
        #expect(advisory("Debian:12", [["introduced": "3.1.0"], ["fixed": "3.1.5"]]).affects(libssl, os: debian) == nil)
        #expect(advisory("Debian:12", [["introduced": "0"], ["last_affected": "3.0.11-1~deb12u2"]])
            .affects(libssl, os: debian) == "")
        #expect(advisory("Debian:12", [], versions: ["3.0.11-1~deb12u2"]).affects(libssl, os: debian) == "")
    }

    @Test func otherReleasesAndEcosystemsDoNotMatch() {
        let events = [["introduced": "0"], ["fixed": "9.9"]]
        #expect(advisory("Debian:11", events).affects(libssl, os: debian) == nil)
        #expect(advisory("Debian", events).affects(libssl, os: debian) != nil)
        #expect(advisory("Alpine:v3.19", events).affects(libssl, os: debian) == nil)
        #expect(advisory("Ubuntu:22.04:LTS", events).affects(libssl, os: debian) == nil)
    }
}
