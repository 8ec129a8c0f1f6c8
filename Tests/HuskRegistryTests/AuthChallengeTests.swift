import Testing
@testable import HuskRegistry

@Suite struct AuthChallengeTests {
    @Test func bearerWithQuotedParameters() throws {
        let challenge = try #require(AuthChallenge(header:
            #"Bearer realm="https://auth.example.org/token",service="registry.example.org",scope="repository:lab/app:pull,push""#))
        #expect(challenge.scheme == "bearer")
        #expect(challenge.realm == "https://auth.example.org/token")
        #expect(challenge.service == "registry.example.org")
        // The comma inside the quoted scope is not a separator.
        #expect(challenge.scope == "repository:lab/app:pull,push")
    }

    @Test func basicAndUnquotedValues() throws {
        let basic = try #require(AuthChallenge(header: #"Basic realm="Registry Realm""#))
        #expect(basic.scheme == "basic")
        #expect(basic.realm == "Registry Realm")
        let loose = try #require(AuthChallenge(header: "bearer realm=http://127.0.0.1:9/token , service = reg"))
        #expect(loose.realm == "http://127.0.0.1:9/token")
        #expect(loose.service == "reg")
    }

    @Test func escapedQuote() throws {
        let challenge = try #require(AuthChallenge(header: #"Bearer realm="a\"b""#))
        #expect(challenge.realm == #"a"b"#)
    }

    @Test func emptyHeaderIsNoChallenge() {
        #expect(AuthChallenge(header: "") == nil)
        #expect(AuthChallenge(header: "   ") == nil)
    }
}
