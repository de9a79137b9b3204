package dev.policygate.core.decision;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class CedarAddressesTest {
    @Test
    void accepted_isTrueForCanonicalIpv4Only_untilCedarHasParsedAnotherForm() {
        CedarAddresses addresses = new CedarAddresses();
        // GIVEN nothing parsed yet, THEN only canonical dotted quads are known to parse
        for (String ok : List.of("0.0.0.0", "10.0.0.1", "127.0.0.1", "255.255.255.255", "192.0.2.10")) {
            assertThat(addresses.accepted(ok)).as(ok).isTrue();
        }
        for (String odd : List.of("010.1.2.3", "10.0.0.256", "10.0.0", "10.0.0.1.", "1.2.3.4/8", " 1.2.3.4",
                "1..2.3", "1.2.3.4a", "2001:db8::1", "not-an-ip", "", "1000.1.1.1", "1.2.3.-4")) {
            assertThat(addresses.accepted(odd)).as(odd).isFalse();
        }
        assertThat(addresses.accepted(null)).isFalse();

        // WHEN Cedar has parsed a context carrying an IPv6 address (nested, too)
        addresses.acceptAll(Map.of("source_ip", new IpAddress("2001:db8::1"),
                "nested", Map.of("list", Set.of(new IpAddress("10.0.0.0/8")))));

        // THEN those addresses are accepted from now on
        assertThat(addresses.accepted("2001:db8::1")).isTrue();
        assertThat(addresses.accepted("10.0.0.0/8")).isTrue();
        assertThat(addresses.accepted("2001:db8::2")).isFalse();
    }
}
