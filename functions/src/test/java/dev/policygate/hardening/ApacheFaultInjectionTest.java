package dev.policygate.hardening;

import dev.policygate.adapters.upstream.HttpClaudeUpstream;

/** Every upstream fault of {@link FaultInjectionTest}, through Apache HttpClient 5, the local server's upstream client. */
class ApacheFaultInjectionTest extends FaultInjectionTest {
    @Override
    HttpClaudeUpstream.Client client() {
        return HttpClaudeUpstream.Client.APACHE;
    }
}
