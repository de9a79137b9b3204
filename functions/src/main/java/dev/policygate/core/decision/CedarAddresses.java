package dev.policygate.core.decision;

import java.util.Collection;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The IP addresses that Cedar is known to parse, so that a context carrying them cannot be
 * rejected by Cedar as a whole: every canonical dotted-quad IPv4 address (four decimal numbers
 * of 0–255 without leading zeros, no prefix: the form a socket address prints), and any other
 * text that Cedar has parsed in a context before ({@link #acceptAll}). Parsing is deterministic,
 * so an address accepted once is accepted again.
 *
 * <p>Limits: remembers at most {@value #CAPACITY} non-canonical addresses and forgets them all when
 * full, which costs one more Cedar call each. Thread-safe.
 */
final class CedarAddresses {
    private static final int CAPACITY = 4_096;
    private static final int MAX_DEPTH = 8;
    private final Set<String> parsed = ConcurrentHashMap.newKeySet();

    /** Whether Cedar parses {@code address} as an {@code ipaddr}. */
    boolean accepted(String address) {
        return address != null && (canonicalIpv4(address) || parsed.contains(address));
    }

    /** Records that Cedar parsed every address in {@code context} (nested up to 8 levels). */
    void acceptAll(Map<String, Object> context) {
        collect(context, 0);
    }

    private void collect(Object value, int depth) {
        if (value instanceof IpAddress ip && ip.address() != null) {
            if (!canonicalIpv4(ip.address())) {
                if (parsed.size() >= CAPACITY) {
                    parsed.clear();
                }
                parsed.add(ip.address());
            }
        } else if (depth < MAX_DEPTH && value instanceof Collection<?> items) {
            items.forEach(item -> collect(item, depth + 1));
        } else if (depth < MAX_DEPTH && value instanceof Map<?, ?> record) {
            record.values().forEach(item -> collect(item, depth + 1));
        }
    }

    /** Four dot-separated decimal numbers 0–255, none with a leading zero, and nothing else. */
    static boolean canonicalIpv4(String s) {
        int n = s.length();
        if (n < 7 || n > 15) {
            return false;
        }
        int octets = 0;
        int i = 0;
        while (true) {
            int start = i;
            int value = 0;
            while (i < n && s.charAt(i) >= '0' && s.charAt(i) <= '9') {
                value = value * 10 + (s.charAt(i) - '0');
                i++;
                if (i - start > 3) {
                    return false;
                }
            }
            int digits = i - start;
            if (digits == 0 || value > 255 || digits > 1 && s.charAt(start) == '0') {
                return false;
            }
            octets++;
            if (octets == 4) {
                return i == n;
            }
            if (i >= n || s.charAt(i) != '.') {
                return false;
            }
            i++;
        }
    }
}
