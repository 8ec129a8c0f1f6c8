import Foundation
import Testing
import HuskCore
@testable import HuskTrust

@Suite struct PackageInventoryTests {
    let status = """
        Package: libssl3
        Status: install ok installed
        Priority: optional
        Architecture: amd64
        Source: openssl (3.0.11-1~deb12u2)
        Version: 3.0.11-1~deb12u2
        Description: Secure Sockets Layer toolkit
         This package is part of the OpenSSL project's implementation.
         .
         Package: fake-continuation-line

        Package: gone
        Status: deinstall ok config-files
        Version: 1.0
        Architecture: all

        Package: zlib1g
        Status: install ok installed
        Architecture: amd64
        Source: zlib
        Version: 1:1.2.13.dfsg-1

        """

    @Test func dpkgStatusGivesInstalledPackagesWithTheirSources() {
        let inventory = PackageInventory(files: ["var/lib/dpkg/status": Array(status.utf8)])
        #expect(inventory.databases == ["var/lib/dpkg/status"])
        #expect(inventory.packages == [
            .init(type: "deb", name: "libssl3", version: "3.0.11-1~deb12u2", architecture: "amd64",
                  source: "openssl", sourceVersion: "3.0.11-1~deb12u2"),
            .init(type: "deb", name: "zlib1g", version: "1:1.2.13.dfsg-1", architecture: "amd64",
                  source: "zlib", sourceVersion: "1:1.2.13.dfsg-1"),
        ])
    }

    @Test func apkDatabaseAndOSRelease() {
        let apk = "P:musl\nV:1.2.4-r2\nA:x86_64\no:musl\n\nP:libcrypto3\nV:3.1.4-r5\nA:x86_64\no:openssl\n"
        let inventory = PackageInventory(files: ["lib/apk/db/installed": Array(apk.utf8),
                                                 "usr/lib/os-release": Array("ID=alpine\nVERSION_ID='3.19.1'\n".utf8)])
        #expect(inventory.os == .init(id: "alpine", versionID: "3.19.1", prettyName: nil))
        #expect(inventory.packages.map { "\($0.name) \($0.version) \($0.source ?? "")" }
            == ["libcrypto3 3.1.4-r5 openssl", "musl 1.2.4-r2 musl"])
    }

    @Test func distrolessStatusFilesRepeatingTheStatusFileCountOnce() {
        let one = "Package: libc6\nVersion: 2.36-9\nArchitecture: amd64\nSource: glibc\n"
        let inventory = PackageInventory(files: ["var/lib/dpkg/status.d/libc6": Array(one.utf8),
                                                 "var/lib/dpkg/status": Array((one + "Status: install ok installed\n").utf8)])
        #expect(inventory.packages.count == 1 && inventory.packages[0].source == "glibc")
    }

    @Test func onlyTheDatabasesAreKeptDuringConversion() {
        for path in ["var/lib/dpkg/status", "var/lib/dpkg/status.d/libc6", "lib/apk/db/installed", "etc/os-release"] {
            #expect(PackageInventory.wants(path), "\(path)")
        }
        for path in ["var/lib/dpkg/status-old", "var/lib/dpkg/status.d/libc6.md5sums", "usr/bin/dpkg", "etc/passwd"] {
            #expect(!PackageInventory.wants(path), "\(path)")
        }
    }

    @Test func sbomsAreReproducibleAndUsePackageURLs() throws {
        let inventory = PackageInventory(files: ["var/lib/dpkg/status": Array(status.utf8),
                                                 "etc/os-release": Array("ID=debian\nVERSION_ID=\"12\"\n".utf8)])
        let digest = Digest(sha256Hex: String(repeating: "12", count: 32))
        let sbom = SBOM(subject: .init(name: "app", digest: digest, source: "docker://reg/app:1",
                                       created: "2024-01-01T00:00:00.123Z"), inventory: inventory)
        #expect(sbom.purl(inventory.packages[1]) == "pkg:deb/debian/zlib1g@1%3A1.2.13.dfsg-1?arch=amd64&distro=debian-12")
        for format in SBOM.Format.allCases {
            #expect(try sbom.encoded(format) == sbom.encoded(format))
        }
        let spdx = try #require(try JSONSerialization.jsonObject(with: Data(sbom.encoded(.spdxJSON))) as? [String: Any])
        #expect((spdx["creationInfo"] as? [String: Any])?["created"] as? String == "2024-01-01T00:00:00Z")
        #expect((spdx["packages"] as? [Any])?.count == 3, "the image and its two packages")
        let cdx = try #require(try JSONSerialization.jsonObject(with: Data(sbom.encoded(.cycloneDXJSON))) as? [String: Any])
        let serial = try #require(cdx["serialNumber"] as? String)
        #expect(serial.range(of: "^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-8[0-9a-f]{3}-[0-9a-f]{12}$",
                             options: .regularExpression) != nil)
    }
}
