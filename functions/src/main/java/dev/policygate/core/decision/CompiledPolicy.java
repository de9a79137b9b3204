package dev.policygate.core.decision;

import com.fasterxml.jackson.databind.JsonNode;
import dev.policygate.core.json.Json;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * One policy, compiled from its Cedar JSON form (EST) into a tree that Java evaluates, so that a
 * decision whose policies all compile costs no call across JNI (about 40–70 µs each, whatever the
 * policy count) and no JSON round trip.
 *
 * <p>Why this is exact. Cedar stays the reference: it parses and validates every policy, and
 * evaluates every request that this class does not fully understand. Only a subset of Cedar is
 * compiled: the scope ({@code ==}, {@code in}, {@code is}, {@code is ... in}, action lists), and
 * conditions built from literals, the four variables, {@code && || ! if-then-else}, {@code == !=},
 * {@code < <= > >=}, {@code + - *} and negation on longs, {@code in}, {@code is}, {@code has},
 * attribute access, {@code like}, set and record literals, {@code contains}, {@code containsAll},
 * {@code containsAny} and {@code isEmpty}, and the {@code ipaddr} functions on IPv4 ({@code ip("...")}
 * of a literal, {@code isInRange}, {@code isIpv4}, {@code isIpv6}, {@code isLoopback},
 * {@code isMulticast}). A policy using anything else ({@code decimal()}, {@code datetime()}, tags,
 * template slots) does not compile, and the engine gives its slices to Cedar. Evaluation follows Cedar's order (scope, then each condition in
 * source order, {@code unless} negated, left to right, short-circuiting {@code &&}, {@code ||} and
 * {@code if}), and it never produces an error of its own: wherever Cedar would raise one (a type
 * mismatch, a missing attribute, an overflow, an entity with no data), and wherever a value's
 * meaning is not modelled here (an IP address compared or put in a set), it throws
 * {@link Undecided}, and the engine asks Cedar for the whole request. Requests are modelled as the
 * engine sends them to Cedar: the principal with its groups as its only ancestors, bare group and
 * referenced entities, the resource with its attributes, and no action hierarchy. The differential
 * test compares this path with Cedar on every generated policy set and request.
 *
 * <p>Limits: compiled trees deeper than {@value #MAX_DEPTH} levels are not compiled. Instances are
 * immutable and thread-safe.
 */
final class CompiledPolicy {
    /** How deeply a compiled expression may nest (a deeper one goes to Cedar). */
    static final int MAX_DEPTH = 64;
    /** How deeply a request value may nest before the request goes to Cedar. */
    static final int MAX_VALUE_DEPTH = 8;
    private static final String NAMESPACE_PREFIX = CedarPolicyEngine.NAMESPACE + "::";
    private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    private static final String RESERVED_PREFIX = "__";

    /**
     * Evaluation reached something that Cedar would report as an error, or that is not modelled
     * here: Cedar must decide. Shared and stackless, as it is control flow, not a failure.
     */
    static final class Undecided extends RuntimeException {
        private static final long serialVersionUID = 1L;
        static final Undecided INSTANCE = new Undecided();

        private Undecided() {
            super("left to Cedar", null, false, false);
        }
    }

    /** An entity: its fully qualified type and its id. */
    record Ent(String type, String id) {
    }

    /**
     * An IP address value. Only IPv4 in its canonical text is modelled ({@code v4} is the address,
     * {@code subnet} the prefix length); any other text Cedar has accepted is carried with
     * {@code v4 == -1}, and every operation on it is left to Cedar. Equality and set membership are
     * never decided here (Cedar compares the parsed address and prefix, not the text).
     */
    record Ip(String address, long v4, int subnet) {
        /** The value of an accepted address text from a request. */
        static Ip of(String address) {
            return CedarAddresses.canonicalIpv4(address) ? new Ip(address, ipv4(address), 32) : new Ip(address, -1, -1);
        }

        /** The value of {@code ip("...")} when its text is a canonical IPv4 address, optionally with {@code /0}–{@code /32}; else null. */
        static Ip literal(String text) {
            int slash = text.indexOf('/');
            String address = slash < 0 ? text : text.substring(0, slash);
            if (!CedarAddresses.canonicalIpv4(address)) {
                return null;
            }
            int subnet = 32;
            if (slash >= 0) {
                String prefix = text.substring(slash + 1);
                boolean digits = prefix.length() >= 1 && prefix.length() <= 2 && prefix.chars().allMatch(Character::isDigit)
                        && prefix.chars().allMatch(c -> c < 128) && !(prefix.length() == 2 && prefix.charAt(0) == '0');
                if (!digits || Integer.parseInt(prefix) > 32) {
                    return null;
                }
                subnet = Integer.parseInt(prefix);
            }
            return new Ip(text, ipv4(address), subnet);
        }

        private static long ipv4(String canonical) {
            long value = 0;
            int octet = 0;
            for (int i = 0; i < canonical.length(); i++) {
                char c = canonical.charAt(i);
                if (c == '.') {
                    value = value << 8 | octet;
                    octet = 0;
                } else {
                    octet = octet * 10 + (c - '0');
                }
            }
            return value << 8 | octet;
        }

        private long modelled() {
            if (v4 < 0) {
                throw Undecided.INSTANCE;
            }
            return v4;
        }

        /** Cedar's isInRange for two IPv4 values: this range lies within {@code other}'s. */
        boolean inRange(Ip other) {
            long self = modelled();
            long parent = other.modelled();
            return (parent & netmask(other.subnet)) <= (self & netmask(subnet))
                    && (self | hostmask(subnet)) <= (parent | hostmask(other.subnet));
        }

        boolean loopback() {
            // as Cedar 4.10 answers (the differential test holds it to that): the whole range must be loopback
            return modelled() >>> 24 == 127 && subnet >= 8;
        }

        boolean multicast() {
            return modelled() >>> 28 == 0xE && subnet >= 4;
        }

        private static long netmask(int subnet) {
            return subnet == 0 ? 0 : 0xFFFF_FFFFL << (32 - subnet) & 0xFFFF_FFFFL;
        }

        private static long hostmask(int subnet) {
            return subnet == 32 ? 0 : 0xFFFF_FFFFL >>> subnet;
        }
    }

    /** One request as Cedar would see it. */
    static final class Request {
        final Ent principal;
        final Set<Ent> principalAncestors;
        final Ent action;
        final Ent resource;
        final Map<String, Object> resourceAttributes;
        final Map<String, Object> context;

        private Request(Ent principal, Set<Ent> principalAncestors, Ent action, Ent resource,
                        Map<String, Object> resourceAttributes, Map<String, Object> context) {
            this.principal = principal;
            this.principalAncestors = principalAncestors;
            this.action = action;
            this.resource = resource;
            this.resourceAttributes = resourceAttributes;
            this.context = context;
        }

        /**
         * The request as Cedar would receive it from the engine, or null when Cedar might treat it
         * otherwise than modelled here (it might reject it as a whole, or build other entities).
         */
        static Request of(AuthzRequest request, CedarAddresses addresses) {
            try {
                Ent principal = entity(request.principal());
                if (principal.type().equals(NAMESPACE_PREFIX + "Group")) {
                    // a group principal could be its own ancestor: not modelled
                    return null;
                }
                Set<Ent> groups = new HashSet<>();
                for (String group : request.principalParents()) {
                    groups.add(entity(EntityRef.group(group)));
                }
                Ent action = new Ent(NAMESPACE_PREFIX + "Action", request.action().name());
                Ent resource = entity(request.resource());
                Map<String, Object> resourceAttributes = record(request.resourceAttributes(), addresses, 0, false);
                Map<String, Object> context = record(request.context(), addresses, 0, false);
                return new Request(principal, Set.copyOf(groups), action, resource, resourceAttributes, context);
            } catch (RuntimeException e) {
                // Undecided, or a value the engine could not convert either: Cedar's path reports it
                return null;
            }
        }

        /** The attributes of {@code entity}, or null when Cedar would hold none for it (or it is not modelled). */
        Map<String, Object> attributes(Ent entity) {
            // The engine sends the principal last, with no attributes; it wins over a resource with its id.
            if (entity.equals(principal)) {
                return Map.of();
            }
            return entity.equals(resource) ? resourceAttributes : null;
        }

        boolean in(Ent entity, Ent ancestor) {
            return entity.equals(ancestor) || entity.equals(principal) && principalAncestors.contains(ancestor);
        }

        private static Map<String, Object> record(Map<?, ?> values, CedarAddresses addresses, int depth,
                                                  boolean inSet) {
            if (values.isEmpty()) {
                return Map.of();
            }
            Map<String, Object> record = new HashMap<>(values.size() * 2);
            for (Map.Entry<?, ?> entry : values.entrySet()) {
                if (!(entry.getKey() instanceof String name) || name.startsWith(RESERVED_PREFIX)
                        || !PromptLike.wellFormed(name)) {
                    throw Undecided.INSTANCE;
                }
                // A null is an absent optional attribute: the engine leaves it out.
                if (entry.getValue() != null) {
                    record.put(name, value(entry.getValue(), addresses, depth + 1, inSet));
                }
            }
            return record;
        }

        private static Object value(Object value, CedarAddresses addresses, int depth, boolean inSet) {
            if (value instanceof String s) {
                if (!PromptLike.wellFormed(s)) {
                    throw Undecided.INSTANCE;
                }
                return s;
            }
            if (value instanceof Long || value instanceof Boolean) {
                return value;
            }
            if (value instanceof Integer || value instanceof Short || value instanceof Byte) {
                return ((Number) value).longValue();
            }
            if (value instanceof EntityRef ref) {
                return entity(ref);
            }
            if (value instanceof IpAddress ip) {
                if (inSet || !addresses.accepted(ip.address())) {
                    throw Undecided.INSTANCE;
                }
                return Ip.of(ip.address());
            }
            if (depth >= MAX_VALUE_DEPTH) {
                throw Undecided.INSTANCE;
            }
            if (value instanceof Collection<?> items) {
                Set<Object> set = new HashSet<>();
                for (Object item : items) {
                    if (item == null) {
                        throw Undecided.INSTANCE;
                    }
                    set.add(value(item, addresses, depth + 1, true));
                }
                return Collections.unmodifiableSet(set);
            }
            if (value instanceof Map<?, ?> map) {
                return Collections.unmodifiableMap(record(map, addresses, depth, inSet));
            }
            throw Undecided.INSTANCE;
        }

        private static Ent entity(EntityRef ref) {
            if (!IDENTIFIER.matcher(ref.type()).matches() || !PromptLike.wellFormed(ref.id())) {
                throw Undecided.INSTANCE;
            }
            // Cedar's own parser rejects reserved words as type names (if, in, true, __cedar, ...):
            // the engine's request to Cedar then fails, and so must this path (it throws here)
            CedarPolicyEngine.typeName(ref.type());
            return new Ent(NAMESPACE_PREFIX + ref.type(), ref.id());
        }
    }

    private final String id;
    private final boolean forbid;
    private final Scope principal;
    private final Scope action;
    private final Scope resource;
    private final Expr[] conditions;

    private CompiledPolicy(String id, boolean forbid, Scope principal, Scope action, Scope resource,
                           Expr[] conditions) {
        this.id = id;
        this.forbid = forbid;
        this.principal = principal;
        this.action = action;
        this.resource = resource;
        this.conditions = conditions;
    }

    /** The policy {@code id} with effect {@code forbid}, from its EST; null when it uses anything not compiled. */
    static CompiledPolicy compile(String id, boolean forbid, String est) {
        if (est == null) {
            return null;
        }
        try {
            return compile(id, forbid, Json.mapper().readTree(est));
        } catch (java.io.IOException | RuntimeException e) {
            return null;
        }
    }

    /** As {@link #compile(String, boolean, String)}, from the EST already read; null for a null tree. */
    static CompiledPolicy compile(String id, boolean forbid, JsonNode root) {
        if (root == null) {
            return null;
        }
        try {
            Scope principal = scope(root.get("principal"), false);
            Scope action = scope(root.get("action"), true);
            Scope resource = scope(root.get("resource"), false);
            JsonNode conditions = root.get("conditions");
            if (principal == null || action == null || resource == null || conditions == null
                    || !conditions.isArray()) {
                return null;
            }
            List<Expr> compiled = new ArrayList<>();
            for (JsonNode condition : conditions) {
                String kind = condition.path("kind").asText("");
                Expr body = expr(condition.get("body"), 0);
                if (body == null || !(kind.equals("when") || kind.equals("unless"))) {
                    return null;
                }
                compiled.add(kind.equals("when") ? body : new Not(body));
            }
            return new CompiledPolicy(id, forbid, principal, action, resource, compiled.toArray(Expr[]::new));
        } catch (RuntimeException e) {
            return null;
        }
    }

    String id() {
        return id;
    }

    boolean forbid() {
        return forbid;
    }

    /**
     * Whether the policy is satisfied by {@code request}: its scope matches and every condition
     * holds.
     *
     * @throws Undecided when Cedar would report an error for this policy, or a value is not modelled
     */
    boolean satisfied(Request request) {
        if (!principal.matches(request, request.principal) || !action.matches(request, request.action)
                || !resource.matches(request, request.resource)) {
            return false;
        }
        for (Expr condition : conditions) {
            if (!bool(condition.eval(request))) {
                return false;
            }
        }
        return true;
    }

    // ---- scope ------------------------------------------------------------------------------------

    /** One scope constraint: any entity, one entity, a list (actions), an ancestor, a type, or a type and an ancestor. */
    private record Scope(String op, Ent entity, Set<Ent> entities, String type) {
        boolean matches(Request request, Ent value) {
            return switch (op) {
                case "All" -> true;
                case "==" -> value.equals(entity);
                case "in" -> request.in(value, entity);
                case "inAny" -> {
                    for (Ent e : entities) {
                        if (request.in(value, e)) {
                            yield true;
                        }
                    }
                    yield false;
                }
                case "is" -> value.type().equals(type);
                case "isIn" -> value.type().equals(type) && request.in(value, entity);
                default -> throw Undecided.INSTANCE;
            };
        }
    }

    private static Scope scope(JsonNode node, boolean action) {
        if (node == null || !node.isObject()) {
            return null;
        }
        String op = node.path("op").asText("");
        switch (op) {
            case "All":
                return new Scope("All", null, null, null);
            case "==": {
                Ent e = scopeEntity(node.get("entity"));
                return e == null ? null : new Scope("==", e, null, null);
            }
            case "in": {
                if (action && node.has("entities")) {
                    Set<Ent> entities = new HashSet<>();
                    for (JsonNode item : node.get("entities")) {
                        Ent e = scopeEntity(item);
                        if (e == null) {
                            return null;
                        }
                        entities.add(e);
                    }
                    return new Scope("inAny", null, Set.copyOf(entities), null);
                }
                Ent e = scopeEntity(node.get("entity"));
                return e == null ? null : new Scope("in", e, null, null);
            }
            case "is": {
                if (action || !node.path("entity_type").isTextual()) {
                    return null;
                }
                String type = node.get("entity_type").asText();
                if (!node.has("in")) {
                    return new Scope("is", null, null, type);
                }
                Ent e = scopeEntity(node.get("in").get("entity"));
                return e == null ? null : new Scope("isIn", e, null, type);
            }
            default:
                // slots and anything newer
                return null;
        }
    }

    /** A scope entity {@code {"type": ..., "id": ...}}, or {@code {"__entity": {...}}}; null otherwise. */
    private static Ent scopeEntity(JsonNode node) {
        if (node == null || !node.isObject()) {
            return null;
        }
        JsonNode e = node.has("__entity") ? node.get("__entity") : node;
        if (e.size() != 2 || !e.path("type").isTextual() || !e.path("id").isTextual()) {
            return null;
        }
        return new Ent(e.get("type").asText(), e.get("id").asText());
    }

    // ---- expressions ------------------------------------------------------------------------------

    /** A compiled expression: evaluates to a value, or throws {@link Undecided}. */
    private interface Expr {
        Object eval(Request request);
    }

    private static Expr expr(JsonNode node, int depth) {
        if (node == null || !node.isObject() || node.size() != 1 || depth > MAX_DEPTH) {
            return null;
        }
        Map.Entry<String, JsonNode> only = node.fields().next();
        String op = only.getKey();
        JsonNode arg = only.getValue();
        int d = depth + 1;
        switch (op) {
            case "Value": {
                Object value = literal(arg, 0);
                return value == null ? null : new Literal(value);
            }
            case "Var":
                return arg.isTextual() ? variable(arg.asText()) : null;
            case "!": {
                Expr e = expr(arg.get("arg"), d);
                return e == null ? null : new Not(e);
            }
            case "neg": {
                Expr e = expr(arg.get("arg"), d);
                return e == null ? null : new Negate(e);
            }
            case "isEmpty": {
                Expr e = expr(arg.get("arg"), d);
                return e == null ? null : new IsEmpty(e);
            }
            case "&&", "||", "==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "in", "contains", "containsAll",
                    "containsAny": {
                Expr left = expr(arg.get("left"), d);
                Expr right = expr(arg.get("right"), d);
                if (left == null || right == null) {
                    return null;
                }
                return switch (op) {
                    case "&&" -> new And(left, right);
                    case "||" -> new Or(left, right);
                    default -> new Binary(op, left, right);
                };
            }
            case ".", "has": {
                Expr left = expr(arg.get("left"), d);
                JsonNode attr = arg.get("attr");
                if (left == null || attr == null || !attr.isTextual()) {
                    return null;
                }
                return op.equals(".") ? new GetAttr(left, attr.asText()) : new Has(left, attr.asText());
            }
            case "like": {
                Expr left = expr(arg.get("left"), d);
                PromptLike pattern = PromptLike.ofPattern(arg.get("pattern"));
                return left == null || pattern == null ? null : new Like(left, pattern);
            }
            case "is": {
                Expr left = expr(arg.get("left"), d);
                JsonNode type = arg.get("entity_type");
                if (left == null || type == null || !type.isTextual()) {
                    return null;
                }
                Expr in = null;
                if (arg.has("in")) {
                    in = expr(arg.get("in"), d);
                    if (in == null) {
                        return null;
                    }
                }
                return new Is(left, type.asText(), in);
            }
            case "if-then-else": {
                Expr c = expr(arg.get("if"), d);
                Expr t = expr(arg.get("then"), d);
                Expr e = expr(arg.get("else"), d);
                return c == null || t == null || e == null ? null : new If(c, t, e);
            }
            case "Set": {
                if (!arg.isArray()) {
                    return null;
                }
                List<Expr> items = new ArrayList<>();
                for (JsonNode item : arg) {
                    Expr e = expr(item, d);
                    if (e == null) {
                        return null;
                    }
                    items.add(e);
                }
                return new SetLiteral(items.toArray(Expr[]::new));
            }
            case "Record": {
                if (!arg.isObject()) {
                    return null;
                }
                Map<String, Expr> fields = new HashMap<>();
                for (Iterator<Map.Entry<String, JsonNode>> it = arg.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> f = it.next();
                    Expr e = expr(f.getValue(), d);
                    if (e == null) {
                        return null;
                    }
                    fields.put(f.getKey(), e);
                }
                return new RecordLiteral(fields);
            }
            case "ip": {
                // only a literal text, parsed here: ip(context.x) or another family stays with Cedar
                JsonNode text = arg.isArray() && arg.size() == 1 ? arg.get(0).get("Value") : null;
                Ip ip = text != null && text.isTextual() && arg.get(0).size() == 1 ? Ip.literal(text.asText()) : null;
                return ip == null ? null : new Literal(ip);
            }
            case "isInRange", "isIpv4", "isIpv6", "isLoopback", "isMulticast": {
                int arity = op.equals("isInRange") ? 2 : 1;
                if (!arg.isArray() || arg.size() != arity) {
                    return null;
                }
                Expr first = expr(arg.get(0), d);
                Expr second = arity == 2 ? expr(arg.get(1), d) : null;
                return first == null || arity == 2 && second == null ? null : new IpMethod(op, first, second);
            }
            default:
                // Slot, Unknown, getTag, hasTag, decimal and datetime functions
                return null;
        }
    }

    /** A literal's value (bool, long, string, entity, set, record); null for anything else. */
    private static Object literal(JsonNode v, int depth) {
        if (depth > MAX_VALUE_DEPTH) {
            return null;
        }
        if (v.isBoolean()) {
            return v.booleanValue();
        }
        if (v.isIntegralNumber()) {
            return v.canConvertToLong() ? v.longValue() : null;
        }
        if (v.isTextual()) {
            return v.asText();
        }
        if (v.isArray()) {
            Set<Object> set = new HashSet<>();
            for (JsonNode item : v) {
                Object value = literal(item, depth + 1);
                if (value == null) {
                    return null;
                }
                set.add(value);
            }
            return Collections.unmodifiableSet(set);
        }
        if (v.isObject()) {
            if (v.has("__entity")) {
                return v.size() == 1 ? scopeEntity(v) : null;
            }
            Map<String, Object> record = new HashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> f = it.next();
                Object value = f.getKey().startsWith(RESERVED_PREFIX) ? null : literal(f.getValue(), depth + 1);
                if (value == null) {
                    return null;
                }
                record.put(f.getKey(), value);
            }
            return Collections.unmodifiableMap(record);
        }
        return null;
    }

    private static Expr variable(String name) {
        return switch (name) {
            case "principal" -> new Variable(0);
            case "action" -> new Variable(1);
            case "resource" -> new Variable(2);
            case "context" -> new Variable(3);
            default -> null;
        };
    }

    private static boolean bool(Object value) {
        if (value instanceof Boolean b) {
            return b;
        }
        throw Undecided.INSTANCE;
    }

    private static long longValue(Object value) {
        if (value instanceof Long l) {
            return l;
        }
        throw Undecided.INSTANCE;
    }

    private static Set<?> set(Object value) {
        if (value instanceof Set<?> s) {
            return s;
        }
        throw Undecided.INSTANCE;
    }

    private static Ent entity(Object value) {
        if (value instanceof Ent e) {
            return e;
        }
        throw Undecided.INSTANCE;
    }

    /** Cedar's {@code ==}: values of different types are unequal; addresses are left to Cedar. */
    static boolean cedarEquals(Object a, Object b) {
        if (a instanceof Ip || b instanceof Ip) {
            throw Undecided.INSTANCE;
        }
        if (a instanceof Map<?, ?> x && b instanceof Map<?, ?> y) {
            if (x.size() != y.size()) {
                return false;
            }
            for (Map.Entry<?, ?> entry : x.entrySet()) {
                Object other = y.get(entry.getKey());
                if (other == null || !cedarEquals(entry.getValue(), other)) {
                    return false;
                }
            }
            return true;
        }
        // Sets never hold an address (see holdsAddress), so Java's set equality is Cedar's.
        return a.equals(b);
    }

    /** Whether an address is anywhere in {@code value}; such a value must not enter a set or a set test. */
    private static boolean holdsAddress(Object value) {
        if (value instanceof Ip) {
            return true;
        }
        if (value instanceof Map<?, ?> record) {
            for (Object v : record.values()) {
                if (holdsAddress(v)) {
                    return true;
                }
            }
        }
        // sets cannot hold one: neither request values nor set literals let it in
        return false;
    }

    private record Literal(Object value) implements Expr {
        @Override
        public Object eval(Request request) {
            return value;
        }
    }

    private record Variable(int which) implements Expr {
        @Override
        public Object eval(Request request) {
            return switch (which) {
                case 0 -> request.principal;
                case 1 -> request.action;
                case 2 -> request.resource;
                default -> request.context;
            };
        }
    }

    private record Not(Expr arg) implements Expr {
        @Override
        public Object eval(Request request) {
            return !bool(arg.eval(request));
        }
    }

    private record Negate(Expr arg) implements Expr {
        @Override
        public Object eval(Request request) {
            try {
                return Math.negateExact(longValue(arg.eval(request)));
            } catch (ArithmeticException overflow) {
                throw Undecided.INSTANCE;
            }
        }
    }

    private record IsEmpty(Expr arg) implements Expr {
        @Override
        public Object eval(Request request) {
            return set(arg.eval(request)).isEmpty();
        }
    }

    private record And(Expr left, Expr right) implements Expr {
        @Override
        public Object eval(Request request) {
            return bool(left.eval(request)) && bool(right.eval(request));
        }
    }

    private record Or(Expr left, Expr right) implements Expr {
        @Override
        public Object eval(Request request) {
            return bool(left.eval(request)) || bool(right.eval(request));
        }
    }

    private record Binary(String op, Expr left, Expr right) implements Expr {
        @Override
        public Object eval(Request request) {
            Object a = left.eval(request);
            Object b = right.eval(request);
            try {
                return switch (op) {
                    case "==" -> cedarEquals(a, b);
                    case "!=" -> !cedarEquals(a, b);
                    case "<" -> longValue(a) < longValue(b);
                    case "<=" -> longValue(a) <= longValue(b);
                    case ">" -> longValue(a) > longValue(b);
                    case ">=" -> longValue(a) >= longValue(b);
                    case "+" -> Math.addExact(longValue(a), longValue(b));
                    case "-" -> Math.subtractExact(longValue(a), longValue(b));
                    case "*" -> Math.multiplyExact(longValue(a), longValue(b));
                    case "in" -> in(request, a, b);
                    case "contains" -> {
                        Set<?> s = set(a);
                        if (holdsAddress(b)) {
                            throw Undecided.INSTANCE;
                        }
                        yield s.contains(b);
                    }
                    case "containsAll" -> set(a).containsAll(set(b));
                    case "containsAny" -> {
                        Set<?> s = set(a);
                        for (Object item : set(b)) {
                            if (s.contains(item)) {
                                yield true;
                            }
                        }
                        yield false;
                    }
                    default -> throw Undecided.INSTANCE;
                };
            } catch (ArithmeticException overflow) {
                throw Undecided.INSTANCE;
            }
        }

        private static boolean in(Request request, Object a, Object b) {
            Ent entity = entity(a);
            if (b instanceof Ent ancestor) {
                return request.in(entity, ancestor);
            }
            // Cedar checks that every member is an entity before it looks for one that matches.
            boolean found = false;
            for (Object item : set(b)) {
                found |= request.in(entity, entity(item));
            }
            return found;
        }
    }

    private record GetAttr(Expr left, String attr) implements Expr {
        @Override
        public Object eval(Request request) {
            Map<?, ?> record = attributesOf(request, left.eval(request));
            Object value = record == null ? null : record.get(attr);
            if (value == null) {
                throw Undecided.INSTANCE;
            }
            return value;
        }
    }

    /** The attributes of a record or of an entity Cedar holds data for; null otherwise (not modelled, or an error). */
    private static Map<?, ?> attributesOf(Request request, Object target) {
        return target instanceof Ent e ? request.attributes(e) : target instanceof Map<?, ?> m ? m : null;
    }

    private record Has(Expr left, String attr) implements Expr {
        @Override
        public Object eval(Request request) {
            Map<?, ?> record = attributesOf(request, left.eval(request));
            if (record == null) {
                throw Undecided.INSTANCE;
            }
            return record.containsKey(attr);
        }
    }

    private record Like(Expr left, PromptLike pattern) implements Expr {
        @Override
        public Object eval(Request request) {
            if (left.eval(request) instanceof String s) {
                // request strings were checked well-formed; literals come from Cedar's parser
                return pattern.matches(s);
            }
            throw Undecided.INSTANCE;
        }
    }

    private record Is(Expr left, String type, Expr in) implements Expr {
        @Override
        public Object eval(Request request) {
            Object value = left.eval(request);
            Ent e = entity(value);
            if (!e.type().equals(type)) {
                return false;
            }
            return in == null || Binary.in(request, e, in.eval(request));
        }
    }

    private record If(Expr condition, Expr then, Expr otherwise) implements Expr {
        @Override
        public Object eval(Request request) {
            return bool(condition.eval(request)) ? then.eval(request) : otherwise.eval(request);
        }
    }

    private record SetLiteral(Expr[] items) implements Expr {
        @Override
        public Object eval(Request request) {
            Set<Object> set = new HashSet<>(items.length * 2);
            for (Expr item : items) {
                Object value = item.eval(request);
                if (holdsAddress(value)) {
                    throw Undecided.INSTANCE;
                }
                set.add(value);
            }
            return set;
        }
    }

    private record IpMethod(String method, Expr first, Expr second) implements Expr {
        @Override
        public Object eval(Request request) {
            Ip ip = ip(first.eval(request));
            return switch (method) {
                case "isInRange" -> ip.inRange(ip(second.eval(request)));
                // modelled() throws for anything but a modelled IPv4 value
                case "isIpv4" -> ip.modelled() >= 0;
                case "isIpv6" -> ip.modelled() < 0;
                case "isLoopback" -> ip.loopback();
                default -> ip.multicast();
            };
        }

        private static Ip ip(Object value) {
            if (value instanceof Ip ip) {
                return ip;
            }
            throw Undecided.INSTANCE;
        }
    }

    private record RecordLiteral(Map<String, Expr> fields) implements Expr {
        @Override
        public Object eval(Request request) {
            Map<String, Object> record = new HashMap<>(fields.size() * 2);
            // Cedar evaluates fields in its own order; any error leaves the request to Cedar anyway.
            fields.forEach((name, e) -> record.put(name, e.eval(request)));
            return record;
        }
    }
}
