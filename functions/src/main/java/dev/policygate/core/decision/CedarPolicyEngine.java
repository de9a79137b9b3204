package dev.policygate.core.decision;

import com.cedarpolicy.BasicAuthorizationEngine;
import com.cedarpolicy.model.AuthorizationRequest;
import com.cedarpolicy.model.AuthorizationResponse;
import com.cedarpolicy.model.AuthorizationSuccessResponse;
import com.cedarpolicy.model.DetailedError;
import com.cedarpolicy.model.Effect;
import com.cedarpolicy.model.ValidationRequest;
import com.cedarpolicy.model.ValidationResponse;
import com.cedarpolicy.model.entity.Entity;
import com.cedarpolicy.model.exception.AuthException;
import com.cedarpolicy.model.exception.CacheException;
import com.cedarpolicy.model.exception.InternalException;
import com.cedarpolicy.model.policy.Policy;
import com.cedarpolicy.model.policy.PolicySet;
import com.cedarpolicy.model.schema.Schema;
import com.cedarpolicy.value.CedarList;
import com.cedarpolicy.value.CedarMap;
import com.cedarpolicy.value.EntityTypeName;
import com.cedarpolicy.value.EntityUID;
import com.cedarpolicy.value.PrimBool;
import com.cedarpolicy.value.PrimLong;
import com.cedarpolicy.value.PrimString;
import com.cedarpolicy.value.Value;
import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The Cedar implementation of {@link PolicyEngine}.
 *
 * <p>Responsibility: load the schema and the policies once, validate every policy against the
 * schema, give each policy a stable id ({@code @id}, else {@code <file stem>.<index>}), cache the
 * parsed policy set on the native side, and then answer {@link AuthzRequest}s by mapping Cedar's
 * allow/deny and its reason policies onto {@link Outcome#ALLOW}, {@link Outcome#DENY} and
 * {@link Outcome#APPROVAL}.
 *
 * <p>Limits: requests are not validated against the schema at decision time (policies were
 * validated at load; passing an uncached schema would silently disable the policy-set cache). A
 * context that does not match the schema therefore surfaces as evaluation errors, which fail
 * closed when they hit a forbid. Policy templates are not supported. Instances are immutable and
 * thread-safe; all instances share one {@link BasicAuthorizationEngine}.
 *
 * <p>Speed: Cedar's cost grows with every policy it is given (about 1.5 µs each, even when the scope
 * does not match), so each {@link Action} gets its own cached slice holding only the policies whose
 * action scope can match it, and each resource named by a {@code resource == E} scope gets a slice
 * of that action's slice plus its own policies (see {@link PolicyScope}). Within a slice, policies
 * whose principal scope names an entity ({@code principal == E}, {@code principal in E}) are given
 * to Cedar only for principals that are {@code E} or list {@code E} among their groups: the slice for
 * a request holds the slice's principal-free policies plus those of the scope entities the principal
 * matches. These principal slices are built and cached on first use, keyed by the matched entities
 * (so principals with the same relevant groups share one). The principal's groups are the only
 * ancestors it has at decision time (group entities are sent without parents), so this test is
 * exactly Cedar's {@code in}. A policy whose scope excludes the request can neither apply nor fail,
 * because Cedar evaluates the scope, which cannot raise an error, before the conditions; so slicing
 * never changes a decision. Decisions are also
 * memoised where they are a function of the principal, its groups, the action and the resource: when
 * no policy of the slice reads the context, or the context is a few scalars such as
 * {@code read_unmasked}'s direction (see {@link DecisionMemo}).
 *
 * <p>Java evaluation: a call into Cedar costs about 40–70 µs whatever the slice (JSON both ways and
 * JNI). So each policy is also compiled from its Cedar JSON form ({@link CompiledPolicy}) where it
 * uses only the common subset of Cedar, and a slice whose policies all compile is evaluated in
 * Java, in a few microseconds. Whatever Cedar would report as an error, and every value that is not
 * modelled there, sends the request to Cedar with the same slice, so the decision, its reasons and
 * its errors are always Cedar's; the differential tests compare the two paths.
 *
 * <p>Native cache: an engine caches one set per distinct slice, plus a permits-only set where a
 * slice has both a permit and an approvable forbid (identical sets are shared). At most
 * {@value #MAX_RESOURCE_SLICES} resource slices are made per engine; the policies of further
 * resources stay in their action's slice. The repository's policies need 6 sets, the 50-policy
 * benchmark set 32. Cedar's cache holds {@code cedar.cache.maxPolicySets} sets (1,024 by default);
 * a set is freed only when its engine is garbage-collected, and loading fails when the cache is
 * full. Build one engine per process and share it. Principal slices take up to
 * {@value #MAX_PRINCIPAL_SLICES} more entries (two sets each at most); when that many exist they
 * are all dropped and rebuilt on demand (their native sets are freed when collected), and a
 * principal slice that cannot be cached falls back to the whole action/resource slice. Unless
 * {@code cedar.cache.maxPolicySets} is set, this class raises Cedar's limit to
 * {@value #NATIVE_CACHE_SETS}.
 */
public final class CedarPolicyEngine implements PolicyEngine {
    /** The Cedar namespace of every entity type and action. */
    public static final String NAMESPACE = "Policygate";
    /** The schema file name inside a policy folder. */
    public static final String SCHEMA_FILE = "policygate.cedarschema";
    /** Annotation: the policy id. */
    public static final String ANNOTATION_ID = "id";
    /** Annotation: the user-facing reason of a forbid. */
    public static final String ANNOTATION_MESSAGE = "message";
    /** Annotation: the group that may lift a forbid by approval. */
    public static final String ANNOTATION_APPROVAL = "approval";

    private static final String POLICY_SUFFIX = ".cedar";
    private static final String TESTS_FOLDER = "tests";
    private static final int MAX_ERROR_CHARS = 300;
    private static final String ENGINE_FAILURE_MESSAGE = "The request could not be evaluated.";

    private static final BasicAuthorizationEngine ENGINE = new BasicAuthorizationEngine();
    private static final Map<String, EntityTypeName> TYPE_NAMES = new ConcurrentHashMap<>();
    private static final Map<Action, EntityUID> ACTION_UIDS = actionUids();

    /** How many decisions one engine remembers. */
    static final int MEMO_CAPACITY = 50_000;
    /** How many per-resource slices one engine may cache, so that it keeps few native cache slots. */
    static final int MAX_RESOURCE_SLICES = 32;
    /** How many principal slices one engine keeps before it drops them all. */
    static final int MAX_PRINCIPAL_SLICES = 1_024;
    /** Cedar's native cache size unless {@code cedar.cache.maxPolicySets} says otherwise. */
    static final int NATIVE_CACHE_SETS = 4_096;

    static {
        if (System.getProperty("cedar.cache.maxPolicySets") == null) {
            PolicySet.setCacheMaxPolicySets(NATIVE_CACHE_SETS);
        }
    }

    /** Sets left out by prompt guards, at most this many at once (each is a native copy). */
    private static final int MAX_GUARDED_SETS = 256;
    private final Map<Action, ActionSlices> slices;
    private final Map<String, LoadedPolicy> policies;
    /** Null when memoisation is off. */
    private final DecisionMemo memo;
    /** Builds principal slices on demand; null when principal slicing is off. */
    private final SliceFactory sliceFactory;
    /** Every policy by id, to build the sets that leave out unmatched prompt guards. */
    private final Map<String, Policy> named;
    /** The policies that may read {@code context.prompt} (any mention of it). */
    private final Set<String> promptReaders;
    /** Slices less the prompt-guarded policies a prompt did not match, built on demand (bounded). */
    private final Map<Set<String>, PolicySet> guardedSets = new ConcurrentHashMap<>();
    private final Map<PrincipalKey, Slice> principalSlices = new ConcurrentHashMap<>();
    private final java.util.concurrent.atomic.LongAdder cedarCalls = new java.util.concurrent.atomic.LongAdder();
    private final java.util.concurrent.atomic.LongAdder guardedEvaluations = new java.util.concurrent.atomic.LongAdder();
    private final java.util.concurrent.atomic.LongAdder compiledDecisions = new java.util.concurrent.atomic.LongAdder();
    /** The addresses Cedar is known to parse (shared with the memo). */
    private final CedarAddresses addresses;

    /**
     * How an engine speeds up decisions; no choice changes a decision.
     *
     * @param slice             give each action, and each resource named by a scope, only the policies
     *                          whose scope can match it
     * @param maxResourceSlices how many per-resource slices to make at most (0: action slices only)
     * @param memoCapacity      how many decisions to remember (0: none)
     * @param maxPrincipalSlices how many principal slices to keep before dropping them all (0: no
     *                          principal slicing)
     */
    record Tuning(boolean slice, int maxResourceSlices, int memoCapacity, int maxPrincipalSlices,
                  boolean promptGuards, boolean compiled) {
        /** What {@link CedarPolicyEngine#load} and the public {@link CedarPolicyEngine#fromSources} use. */
        static final Tuning FAST = new Tuning(true, MAX_RESOURCE_SLICES, MEMO_CAPACITY, MAX_PRINCIPAL_SLICES, true,
                true);
        /** As {@link #FAST}, but every decision goes to Cedar (benchmarks compare the two). */
        static final Tuning NATIVE = new Tuning(true, MAX_RESOURCE_SLICES, MEMO_CAPACITY, MAX_PRINCIPAL_SLICES, true,
                false);
        /** Every policy for every request, all of them in Cedar, nothing remembered: the reference for differential tests. */
        static final Tuning REFERENCE = new Tuning(false, 0, 0, 0, false, false);

        /** With prompt guards ({@link PromptLike}) and compiled policies ({@link CompiledPolicy}) as in {@link #FAST} when {@code slice} is on. */
        Tuning(boolean slice, int maxResourceSlices, int memoCapacity, int maxPrincipalSlices) {
            this(slice, maxResourceSlices, memoCapacity, maxPrincipalSlices, slice, slice);
        }

        Tuning {
            if (maxResourceSlices < 0 || memoCapacity < 0 || maxPrincipalSlices < 0) {
                throw new IllegalArgumentException("tuning values must not be negative");
            }
            if (!slice && maxPrincipalSlices > 0) {
                throw new IllegalArgumentException("principal slices need slicing");
            }
        }

        /** With principal slicing as in {@link #FAST} when {@code slice} is on. */
        Tuning(boolean slice, int maxResourceSlices, int memoCapacity) {
            this(slice, maxResourceSlices, memoCapacity, slice ? MAX_PRINCIPAL_SLICES : 0);
        }
    }

    /**
     * The slices of one action.
     *
     * @param general    the policies for a resource that no {@code resource ==} scope names
     * @param byResource for each resource that one names: the general policies plus that resource's
     */
    private record ActionSlices(Slice general, Map<EntityUID, Slice> byResource) {
        Slice forResource(EntityUID resource) {
            return byResource.getOrDefault(resource, general);
        }

        Stream<Slice> all() {
            return Stream.concat(Stream.of(general), byResource.values().stream());
        }
    }

    /**
     * The policies Cedar is given for one action, or one action on one resource.
     *
     * @param policies     the policies whose scope can match
     * @param permits      those of them that are permits: asked only to check that an approvable
     *                     request could be allowed at all. Null when the slice has no permit (then no
     *                     permit could allow, and the answer is false without asking) or no approvable
     *                     forbid (then the question is never asked)
     * @param readsContext whether any of the policies may read the context (see {@link ContextUse})
     * @param byPrincipal  the policies whose principal scope names an entity, by that entity; empty
     *                     when principal slicing is off or no policy names one
     * @param unscoped     the ids of the policies whose principal scope names none
     * @param compiled     the policies compiled for evaluation in Java, when every one of them compiles;
     *                     otherwise null (Cedar evaluates the slice)
     */
    private record Slice(PolicySet policies, PolicySet permits, boolean readsContext,
                         Map<EntityUID, Set<String>> byPrincipal, Set<String> unscoped, Set<String> ids,
                         Map<String, PromptLike> guards, CompiledPolicy[] compiled) {
    }

    /**
     * Which principal slice a request gets.
     *
     * @param whole   the action/resource slice it narrows (compared by identity: each is built once)
     * @param matched the scope entities of {@code whole} that the principal is or descends from
     */
    private record PrincipalKey(Slice whole, Set<EntityUID> matched) {
        @Override
        public boolean equals(Object o) {
            return o instanceof PrincipalKey k && k.whole == whole && k.matched.equals(matched);
        }

        @Override
        public int hashCode() {
            return System.identityHashCode(whole) * 31 + matched.hashCode();
        }
    }

    /** What building a slice after load needs; sets are shared as at load, until the slices are dropped. */
    private static final class SliceFactory {
        final Map<String, Policy> named;
        final Map<String, LoadedPolicy> loaded;
        final Set<String> contextReaders;
        final Map<String, PromptLike> guards;
        final Map<String, CompiledPolicy> compiled;
        final int maxSlices;
        final Map<Set<String>, PolicySet> cachedSets = new ConcurrentHashMap<>();

        SliceFactory(Map<String, Policy> named, Map<String, LoadedPolicy> loaded, Set<String> contextReaders,
                     Map<String, PromptLike> guards, Map<String, CompiledPolicy> compiled, int maxSlices) {
            this.named = named;
            this.loaded = loaded;
            this.contextReaders = contextReaders;
            this.guards = guards;
            this.compiled = compiled;
            this.maxSlices = maxSlices;
        }
    }

    private record LoadedPolicy(String id, String file, Effect effect, Map<String, String> annotations) {
        boolean approvable() {
            return effect == Effect.FORBID && annotations.containsKey(ANNOTATION_APPROVAL);
        }
    }

    private CedarPolicyEngine(Map<Action, ActionSlices> slices, Map<String, LoadedPolicy> policies,
                              DecisionMemo memo, SliceFactory sliceFactory, Map<String, Policy> named,
                              Set<String> promptReaders, CedarAddresses addresses) {
        this.addresses = addresses;
        this.slices = slices;
        this.policies = policies;
        this.memo = memo;
        this.sliceFactory = sliceFactory;
        this.named = named;
        this.promptReaders = promptReaders;
    }

    /**
     * Loads {@code dir/policygate.cedarschema} and every {@code *.cedar} file under {@code dir}
     * (recursively, skipping any {@code tests} folder), in path order.
     *
     * @throws PolicyLoadException if a file cannot be read, or the policy set is invalid
     */
    public static CedarPolicyEngine load(Path dir) {
        Objects.requireNonNull(dir, "dir");
        Path schemaFile = dir.resolve(SCHEMA_FILE);
        if (!Files.isRegularFile(schemaFile)) {
            throw new PolicyLoadException("schema not found: " + schemaFile);
        }
        try (Stream<Path> files = Files.walk(dir)) {
            Map<String, String> sources = new TreeMap<>();
            for (Path file : files.filter(Files::isRegularFile)
                    .filter(f -> f.getFileName().toString().endsWith(POLICY_SUFFIX))
                    .filter(f -> !inTestsFolder(dir.relativize(f)))
                    .sorted()
                    .collect(Collectors.toList())) {
                sources.put(relativeName(dir.relativize(file)), Files.readString(file));
            }
            return fromSources(Files.readString(schemaFile), sources);
        } catch (IOException | UncheckedIOException e) {
            throw new PolicyLoadException("cannot read policies from " + dir + ": " + e.getMessage(), e);
        }
    }

    /**
     * Builds an engine from a schema text (Cedar human format) and policy files keyed by file
     * name (for example {@code "access.cedar"} or {@code "team/models.cedar"}). Files are read in
     * name order.
     *
     * @throws PolicyLoadException if the schema or a policy does not parse, an id is duplicated,
     *                             an annotation is misused, or the validator rejects a policy
     */
    public static CedarPolicyEngine fromSources(String schemaText, Map<String, String> policyFilesByName) {
        return fromSources(schemaText, policyFilesByName, Tuning.FAST);
    }

    /** As {@link #fromSources(String, Map)}, with an explicit {@link Tuning} (tests compare them). */
    static CedarPolicyEngine fromSources(String schemaText, Map<String, String> policyFilesByName, Tuning tuning) {
        Objects.requireNonNull(schemaText, "schemaText");
        Objects.requireNonNull(policyFilesByName, "policyFilesByName");
        Objects.requireNonNull(tuning, "tuning");
        Schema schema;
        try {
            schema = Schema.parse(Schema.JsonOrCedar.Cedar, schemaText);
        } catch (InternalException | RuntimeException e) {
            throw new PolicyLoadException("schema " + SCHEMA_FILE + " does not parse: " + e.getMessage(), e);
        }

        Map<String, LoadedPolicy> loaded = new TreeMap<>();
        Map<String, Policy> named = new TreeMap<>();
        for (Map.Entry<String, String> file : new TreeMap<>(policyFilesByName).entrySet()) {
            for (Policy parsed : parseFile(file.getKey(), file.getValue())) {
                LoadedPolicy policy = describe(file.getKey(), parsed, indexOf(parsed), loaded);
                loaded.put(policy.id(), policy);
                named.put(policy.id(), new Policy(parsed.getSource(), policy.id()));
            }
        }

        validate(schema, new PolicySet(new HashSet<>(named.values())), loaded);
        Map<String, PolicyScope> scopes = new TreeMap<>();
        Set<String> contextReaders = new HashSet<>();
        Map<String, PromptLike> guards = new HashMap<>();
        Set<String> promptReaders = new HashSet<>();
        Map<String, CompiledPolicy> compiled = new HashMap<>();
        named.forEach((id, policy) -> {
            String est = tuning.slice() || tuning.memoCapacity() > 0 || tuning.promptGuards() || tuning.compiled()
                    ? est(policy) : null;
            scopes.put(id, tuning.slice() ? PolicyScope.of(est) : PolicyScope.ANY);
            if (ContextUse.readsContext(est)) {
                contextReaders.add(id);
            }
            if (est == null || est.contains("\"prompt\"")) {
                promptReaders.add(id);
            }
            // read once for both the guard and the compiled form
            JsonNode tree = tuning.promptGuards() || tuning.compiled() ? readEst(est) : null;
            PromptLike guard = tuning.promptGuards() ? PromptLike.of(tree) : null;
            if (guard != null) {
                guards.put(id, guard);
            }
            CompiledPolicy c = tuning.compiled()
                    ? CompiledPolicy.compile(id, loaded.get(id).effect() == Effect.FORBID, tree) : null;
            if (c != null) {
                compiled.put(id, c);
            }
        });
        // null: no slice is evaluated in Java (an empty slice would otherwise count as compiled)
        Map<String, CompiledPolicy> compiledById = tuning.compiled() ? Map.copyOf(compiled) : null;
        Map<Action, ActionSlices> slices = slices(named, loaded, scopes, contextReaders, Map.copyOf(guards),
                compiledById, tuning);
        CedarAddresses addresses = new CedarAddresses();
        DecisionMemo memo = tuning.memoCapacity() == 0 ? null : new DecisionMemo(tuning.memoCapacity(), addresses);
        SliceFactory factory = tuning.maxPrincipalSlices() == 0 ? null
                : new SliceFactory(named, loaded, contextReaders, Map.copyOf(guards), compiledById,
                tuning.maxPrincipalSlices());
        return new CedarPolicyEngine(slices, Collections.unmodifiableMap(loaded), memo, factory,
                Collections.unmodifiableMap(named), Set.copyOf(promptReaders), addresses);
    }

    /** The slices of every action; identical policy sets are cached once and shared. */
    private static Map<Action, ActionSlices> slices(Map<String, Policy> named, Map<String, LoadedPolicy> loaded,
                                                    Map<String, PolicyScope> scopes, Set<String> contextReaders,
                                                    Map<String, PromptLike> guards,
                                                    Map<String, CompiledPolicy> compiled, Tuning tuning) {
        Map<String, EntityUID> principals = new HashMap<>();
        if (tuning.maxPrincipalSlices() > 0) {
            scopes.forEach((id, scope) -> {
                if (scope.principal() != null) {
                    principals.put(id, scope.principal());
                }
            });
        }
        Map<Set<String>, PolicySet> cachedSets = new HashMap<>();
        int resourceSlicesLeft = tuning.maxResourceSlices();
        Map<Action, ActionSlices> slices = new EnumMap<>(Action.class);
        for (Action action : Action.values()) {
            Set<String> general = new TreeSet<>();
            Map<EntityUID, Set<String>> byResource = new HashMap<>();
            scopes.forEach((id, scope) -> {
                if (!scope.actions().contains(action)) {
                    return;
                }
                if (scope.resource() == null) {
                    general.add(id);
                } else {
                    byResource.computeIfAbsent(scope.resource(), r -> new TreeSet<>()).add(id);
                }
            });
            if (byResource.size() > resourceSlicesLeft) {
                // Too many resources to give each its own native set: their policies join the action's slice.
                byResource.values().forEach(general::addAll);
                byResource.clear();
            }
            resourceSlicesLeft -= byResource.size();
            Map<EntityUID, Slice> resourceSlices = new HashMap<>();
            byResource.forEach((resource, ids) -> {
                Set<String> withGeneral = new TreeSet<>(general);
                withGeneral.addAll(ids);
                resourceSlices.put(resource, slice(withGeneral, named, loaded, contextReaders, guards, compiled,
                        cachedSets, tuning.slice(), principals));
            });
            slices.put(action, new ActionSlices(slice(general, named, loaded, contextReaders, guards, compiled,
                    cachedSets, tuning.slice(), principals), Map.copyOf(resourceSlices)));
        }
        return Collections.unmodifiableMap(slices);
    }

    /** The policy's Cedar JSON form read as a tree, or null when it cannot be read. */
    private static JsonNode readEst(String est) {
        if (est == null) {
            return null;
        }
        try {
            return dev.policygate.core.json.Json.mapper().readTree(est);
        } catch (java.io.IOException | RuntimeException e) {
            return null;
        }
    }

    /** The policy's Cedar JSON form, or null when it cannot be had. */
    private static String est(Policy policy) {
        try {
            return policy.toJson();
        } catch (InternalException | RuntimeException e) {
            return null;
        }
    }

    private static Slice slice(Set<String> ids, Map<String, Policy> named, Map<String, LoadedPolicy> loaded,
                               Set<String> contextReaders, Map<String, PromptLike> guards,
                               Map<String, CompiledPolicy> compiled,
                               Map<Set<String>, PolicySet> cachedSets, boolean skipUnusedPermitSet,
                               Map<String, EntityUID> principals) {
        Map<EntityUID, Set<String>> byPrincipal = new HashMap<>();
        Set<String> unscoped = new TreeSet<>();
        for (String id : ids) {
            EntityUID principal = principals.get(id);
            if (principal == null) {
                unscoped.add(id);
            } else {
                byPrincipal.computeIfAbsent(principal, p -> new TreeSet<>()).add(id);
            }
        }
        Map<EntityUID, Set<String>> frozen = new HashMap<>();
        byPrincipal.forEach((p, set) -> frozen.put(p, Collections.unmodifiableSet(set)));
        Set<String> permits = new TreeSet<>();
        boolean approvable = false;
        for (String id : ids) {
            if (loaded.get(id).effect() == Effect.PERMIT) {
                permits.add(id);
            }
            approvable |= loaded.get(id).approvable();
        }
        // Every cached set takes a slot in Cedar's bounded native cache; see Slice for why skipping is exact.
        boolean permitSetUnused = skipUnusedPermitSet && (permits.isEmpty() || !approvable);
        Map<String, PromptLike> sliceGuards = new HashMap<>();
        for (String id : ids) {
            PromptLike g = guards.get(id);
            if (g != null) {
                sliceGuards.put(id, g);
            }
        }
        CompiledPolicy[] compiledSlice = compiled != null && compiled.keySet().containsAll(ids)
                ? ids.stream().map(compiled::get).toArray(CompiledPolicy[]::new) : null;
        return new Slice(cachedSet(ids, named, cachedSets),
                permitSetUnused ? null : cachedSet(permits, named, cachedSets),
                ids.stream().anyMatch(contextReaders::contains), Map.copyOf(frozen),
                Collections.unmodifiableSet(unscoped), Set.copyOf(ids), Map.copyOf(sliceGuards), compiledSlice);
    }

    /**
     * The slice of {@code whole} for a principal that is, or descends from, exactly the scope
     * entities {@code matched}: the principal-free policies plus the policies of those entities.
     * Null when it cannot be cached (the caller then uses {@code whole}).
     */
    private Slice principalSlice(Slice whole, Set<EntityUID> matched) {
        PrincipalKey key = new PrincipalKey(whole, matched);
        Slice slice = principalSlices.get(key);
        if (slice != null) {
            return slice;
        }
        Set<String> ids = new TreeSet<>(whole.unscoped());
        matched.forEach(entity -> ids.addAll(whole.byPrincipal().get(entity)));
        SliceFactory f = sliceFactory;
        try {
            synchronized (f) {
                if (principalSlices.size() >= f.maxSlices) {
                    // Dropped slices free their native sets when collected; those in use are rebuilt.
                    principalSlices.clear();
                    f.cachedSets.clear();
                }
                slice = slice(ids, f.named, f.loaded, f.contextReaders, f.guards, f.compiled, f.cachedSets, true,
                        Map.of());
            }
        } catch (PolicyLoadException e) {
            return null;
        }
        principalSlices.put(key, slice);
        return slice;
    }

    /** The slice Cedar is given for {@code request}, whose resource is {@code resource}. */
    private Slice sliceFor(AuthzRequest request, EntityUID resource) {
        Slice whole = slices.get(request.action()).forResource(resource);
        if (sliceFactory == null || whole.byPrincipal().isEmpty()) {
            return whole;
        }
        Map<EntityUID, Set<String>> byPrincipal = whole.byPrincipal();
        Set<EntityUID> matched = null;
        EntityUID principal = uid(request.principal());
        if (byPrincipal.containsKey(principal)) {
            matched = new HashSet<>();
            matched.add(principal);
        }
        for (String group : request.principalParents()) {
            EntityUID groupUid = uid(EntityRef.group(group));
            if (byPrincipal.containsKey(groupUid)) {
                if (matched == null) {
                    matched = new HashSet<>();
                }
                matched.add(groupUid);
            }
        }
        if (matched != null && matched.size() == byPrincipal.size()) {
            return whole;
        }
        Slice slice = principalSlice(whole, matched == null ? Set.of() : Set.copyOf(matched));
        return slice == null ? whole : slice;
    }

    /** The cached set of {@code ids}; null when it cannot be cached (the caller then uses the whole slice). */
    private PolicySet guardedSet(Set<String> ids) {
        PolicySet existing = guardedSets.get(ids);
        if (existing != null) {
            return existing;
        }
        synchronized (guardedSets) {
            if (guardedSets.size() >= MAX_GUARDED_SETS) {
                // dropped sets free their native copies when collected
                guardedSets.clear();
            }
            try {
                return cachedSet(ids, named, guardedSets);
            } catch (PolicyLoadException e) {
                return null;
            }
        }
    }

    private static PolicySet cachedSet(Set<String> ids, Map<String, Policy> named,
                                       Map<Set<String>, PolicySet> cachedSets) {
        PolicySet existing = cachedSets.get(ids);
        if (existing != null) {
            return existing;
        }
        Set<Policy> policies = new HashSet<>();
        ids.forEach(id -> policies.add(named.get(id)));
        PolicySet set = new PolicySet(policies);
        try {
            set.cache();
        } catch (CacheException e) {
            throw new PolicyLoadException("cannot cache the policy set (Cedar's native cache holds "
                    + "cedar.cache.maxPolicySets sets, 1,024 by default, freed when an engine is garbage-collected): "
                    + e.getMessage(), e);
        }
        cachedSets.put(Set.copyOf(ids), set);
        return set;
    }

    /** The number of loaded policies. */
    public int policyCount() {
        return policies.size();
    }

    /** The ids of all loaded policies, sorted. */
    public List<String> policyIds() {
        return List.copyOf(policies.keySet());
    }

    /** The value of annotation {@code name} on policy {@code policyId}, if both exist. */
    public Optional<String> annotation(String policyId, String name) {
        LoadedPolicy policy = policies.get(policyId);
        return policy == null ? Optional.empty() : Optional.ofNullable(policy.annotations().get(name));
    }

    /** Whether the policy sets live in the native cache (the fast decision path). */
    boolean cached() {
        return cachedSets().allMatch(set -> set.cacheKey().isPresent());
    }

    /** How many policy sets this engine keeps in Cedar's native cache. */
    int cachedSetCount() {
        return (int) cachedSets().count();
    }

    private Stream<PolicySet> cachedSets() {
        Set<PolicySet> sets = Collections.newSetFromMap(new IdentityHashMap<>());
        slices.values().stream().flatMap(ActionSlices::all).forEach(slice -> {
            sets.add(slice.policies());
            if (slice.permits() != null) {
                sets.add(slice.permits());
            }
        });
        return sets.stream();
    }

    /** The ids of the policies Cedar is given for {@code action} on a resource no scope names, sorted. */
    Set<String> policyIdsFor(Action action) {
        return idsOf(slices.get(action).general());
    }

    /** The ids of the policies Cedar is given for {@code action} on {@code resource}, sorted. */
    Set<String> policyIdsFor(Action action, EntityRef resource) {
        return idsOf(slices.get(action).forResource(uid(resource)));
    }

    private static Set<String> idsOf(Slice slice) {
        return slice.policies().policies.stream().map(Policy::getID).collect(Collectors.toCollection(TreeSet::new));
    }

    /** Whether a policy Cedar is given for {@code action} on {@code resource} may read the context. */
    boolean contextReadFor(Action action, EntityRef resource) {
        return slices.get(action).forResource(uid(resource)).readsContext();
    }

    /** How many times this engine has called Cedar (a decision takes one call, an approvable one two). */
    public long cedarCalls() {
        return cedarCalls.sum();
    }

    /** The ids of the policies Cedar is given for {@code request} (its principal slice). */
    Set<String> policyIdsFor(AuthzRequest request) {
        return idsOf(sliceFor(request, uid(request.resource())));
    }

    /**
     * How many policy evaluations this engine has run: its Cedar calls plus its decisions evaluated
     * in Java. A remembered decision costs none.
     */
    public long evaluations() {
        return cedarCalls() + compiledDecisions();
    }

    /** How many decisions were evaluated in Java, without calling Cedar ({@link CompiledPolicy}). */
    public long compiledDecisions() {
        return compiledDecisions.sum();
    }

    /** How many decisions left unmatched prompt-guarded policies out of what Cedar evaluated. */
    long guardedEvaluations() {
        return guardedEvaluations.sum();
    }

    /** How many principal slices are cached now. */
    int principalSliceCount() {
        return principalSlices.size();
    }

    /** How many decisions are remembered now (0 when memoisation is off). */
    int memoisedDecisions() {
        return memo == null ? 0 : memo.size();
    }

    /** How many decisions were answered from memory so far (0 when memoisation is off). */
    long memoHits() {
        return memo == null ? 0 : memo.hits();
    }

    @Override
    public Decision decide(AuthzRequest request) {
        Slice slice;
        try {
            slice = sliceFor(request, uid(request.resource()));
        } catch (RuntimeException e) {
            // evaluate reports it, as a failure that fails closed
            slice = null;
        }
        // a slice that cannot be known may read the context
        DecisionMemo.Key key = memo == null || !request.resourceAttributes().isEmpty() ? null
                : memo.keyOf(request, slice == null || slice.readsContext());
        if (key == null) {
            return evaluate(request, slice);
        }
        Decision remembered = memo.get(key);
        if (remembered != null) {
            return remembered;
        }
        Decision decision = evaluate(request, slice);
        memo.put(key, decision);
        return decision;
    }

    /** @param known the request's slice, or null to find it (and fail as evaluation does) */
    private Decision evaluate(AuthzRequest request, Slice known) {
        try {
            EntityUID resource = uid(request.resource());
            Slice slice = known != null ? known : sliceFor(request, resource);
            if (slice.compiled() != null) {
                Decision decided = evaluateCompiled(request, slice.compiled());
                if (decided != null) {
                    return decided;
                }
            }
            Map<EntityUID, Entity> entities = new LinkedHashMap<>();
            Map<String, Value> context = record(request.context(), entities);
            Map<String, Value> resourceAttrs = record(request.resourceAttributes(), entities);
            Set<EntityUID> parents = new HashSet<>();
            for (String group : request.principalParents()) {
                EntityUID groupUid = uid(EntityRef.group(group));
                parents.add(groupUid);
                entities.putIfAbsent(groupUid, new Entity(groupUid));
            }
            entities.put(resource, new Entity(resource, resourceAttrs, Set.of()));
            EntityUID principal = uid(request.principal());
            // Put last: the principal with its parents wins over a bare reference to it (a Session owner).
            entities.put(principal, new Entity(principal, new HashMap<>(), parents));

            AuthorizationRequest query = new AuthorizationRequest(principal, ACTION_UIDS.get(request.action()), resource,
                    context);
            Set<Entity> entitySet = new HashSet<>(entities.values());
            PolicySet evaluated = slice.policies();
            if (!slice.guards().isEmpty() && request.context().get("prompt") instanceof String prompt
                    && PromptLike.wellFormed(prompt)) {
                Set<String> unmatched = null;
                for (Map.Entry<String, PromptLike> g : slice.guards().entrySet()) {
                    if (!g.getValue().matches(prompt)) {
                        unmatched = unmatched == null ? new HashSet<>() : unmatched;
                        unmatched.add(g.getKey());
                    }
                }
                if (unmatched != null) {
                    Set<String> keep = new HashSet<>(slice.ids());
                    keep.removeAll(unmatched);
                    PolicySet narrowed = guardedSet(keep);
                    if (narrowed != null) {
                        evaluated = narrowed;
                        guardedEvaluations.increment();
                        if (Collections.disjoint(keep, promptReaders)) {
                            // nothing left reads the prompt: Cedar need not parse it (errors in the
                            // left-out permits only mean they do not apply, as their like was false)
                            Map<String, Value> lean = new HashMap<>(context);
                            lean.remove("prompt");
                            query = new AuthorizationRequest(principal, ACTION_UIDS.get(request.action()), resource,
                                    lean);
                        }
                    }
                }
            }
            cedarCalls.increment();
            AuthorizationResponse response = ENGINE.isAuthorized(query, evaluated, entitySet);
            if (response.type == AuthorizationResponse.SuccessOrFailure.Success) {
                // Cedar parsed this context, so later contexts with the same addresses parse as well.
                addresses.acceptAll(request.context());
            }
            AuthorizationRequest asked = query;
            return interpret(response, () -> permitted(asked, entitySet, slice));
        } catch (AuthException | RuntimeException e) {
            return engineFailure(e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }

    /**
     * The decision of {@code compiled} (a slice's policies) in Java, or null when one of them reaches
     * something that Cedar must decide ({@link CompiledPolicy.Undecided}) or the request is not modelled.
     */
    private Decision evaluateCompiled(AuthzRequest request, CompiledPolicy[] compiled) throws AuthException {
        CompiledPolicy.Request modelled = CompiledPolicy.Request.of(request, addresses);
        if (modelled == null) {
            return null;
        }
        Set<String> forbids = null;
        Set<String> permits = null;
        try {
            for (CompiledPolicy policy : compiled) {
                if (policy.satisfied(modelled)) {
                    if (policy.forbid()) {
                        forbids = forbids == null ? new TreeSet<>() : forbids;
                        forbids.add(policy.id());
                    } else {
                        permits = permits == null ? new TreeSet<>() : permits;
                        permits.add(policy.id());
                    }
                }
            }
        } catch (CompiledPolicy.Undecided e) {
            return null;
        }
        compiledDecisions.increment();
        // Cedar's rule: a satisfied forbid denies and is the reason; else a satisfied permit allows.
        boolean allowed = forbids == null && permits != null;
        Set<String> reasons = forbids != null ? forbids : permits == null ? Set.of() : permits;
        boolean anyPermit = permits != null;
        return interpret(allowed, reasons, List.of(), Set.of(), () -> anyPermit);
    }

    /** Whether some permit alone would allow the request: asked only when every deciding forbid is approvable. */
    @FunctionalInterface
    private interface PermitCheck {
        boolean permitted() throws AuthException;
    }

    private Decision interpret(AuthorizationResponse response, PermitCheck permitCheck) throws AuthException {
        if (response.type != AuthorizationResponse.SuccessOrFailure.Success || response.success.isEmpty()) {
            String detail = response.errors.map(list -> list.stream().map(e -> e.message)
                    .collect(Collectors.joining("; "))).orElse("no detail");
            return engineFailure("authorization failed: " + detail);
        }
        AuthorizationSuccessResponse success = response.success.get();
        List<String> errors = new ArrayList<>();
        Set<String> unevaluatedForbids = new TreeSet<>();
        for (AuthorizationSuccessResponse.AuthorizationError error : success.getErrors()) {
            errors.add(error.getPolicyId() + ": " + truncate(message(error.getError())));
            LoadedPolicy policy = policies.get(error.getPolicyId());
            // An error in a permit only means that permit did not apply; an unknown id fails closed.
            if (policy == null || policy.effect() == Effect.FORBID) {
                unevaluatedForbids.add(error.getPolicyId());
            }
        }
        return interpret(success.isAllowed(), new TreeSet<>(success.getReason()), errors, unevaluatedForbids,
                permitCheck);
    }

    private Decision interpret(boolean allowed, Set<String> reasons, List<String> errors,
                               Set<String> unevaluatedForbids, PermitCheck permitCheck) throws AuthException {
        if (!unevaluatedForbids.isEmpty()) {
            Set<String> deciding = new TreeSet<>(unevaluatedForbids);
            if (!allowed) {
                deciding.addAll(reasons);
            }
            List<String> messages = new ArrayList<>();
            for (String id : deciding) {
                if (unevaluatedForbids.contains(id)) {
                    messages.add("policy " + id + " could not be evaluated");
                } else {
                    messageOf(id).ifPresent(messages::add);
                }
            }
            return new Decision(Outcome.DENY, List.copyOf(deciding), messages, Set.of(), errors);
        }
        if (allowed) {
            return new Decision(Outcome.ALLOW, List.copyOf(reasons), List.of(), Set.of(), errors);
        }
        if (reasons.isEmpty()) {
            return new Decision(Outcome.DENY, List.of(), List.of(), Set.of(), errors);
        }
        List<String> messages = new ArrayList<>();
        reasons.forEach(id -> messageOf(id).ifPresent(messages::add));
        boolean approvable = reasons.stream().map(policies::get).allMatch(p -> p != null && p.approvable());
        // Offering approval for a request that no permit would allow afterwards wastes the approver's time.
        if (approvable && permitCheck.permitted()) {
            Set<String> groups = reasons.stream().map(id -> policies.get(id).annotations().get(ANNOTATION_APPROVAL))
                    .collect(Collectors.toCollection(TreeSet::new));
            return new Decision(Outcome.APPROVAL, List.copyOf(reasons), messages, groups, errors);
        }
        return new Decision(Outcome.DENY, List.copyOf(reasons), messages, Set.of(), errors);
    }

    private boolean permitted(AuthorizationRequest query, Set<Entity> entities, Slice slice) throws AuthException {
        if (slice.permits() == null) {
            return false;
        }
        cedarCalls.increment();
        AuthorizationResponse response = ENGINE.isAuthorized(query, slice.permits(), entities);
        return response.type == AuthorizationResponse.SuccessOrFailure.Success
                && response.success.map(AuthorizationSuccessResponse::isAllowed).orElse(false);
    }

    private Optional<String> messageOf(String policyId) {
        LoadedPolicy policy = policies.get(policyId);
        return policy == null ? Optional.empty() : Optional.ofNullable(policy.annotations().get(ANNOTATION_MESSAGE));
    }

    private static Decision engineFailure(String detail) {
        return new Decision(Outcome.DENY, List.of(), List.of(ENGINE_FAILURE_MESSAGE), Set.of(),
                List.of("policy engine: " + truncate(detail)));
    }

    // ---- loading -------------------------------------------------------------------------------

    private static List<Policy> parseFile(String file, String text) {
        PolicySet parsed;
        try {
            parsed = PolicySet.parsePolicies(text);
        } catch (InternalException | RuntimeException e) {
            throw new PolicyLoadException(file + ": does not parse: " + e.getMessage(), e);
        }
        if (parsed.getNumTemplates() > 0) {
            throw new PolicyLoadException(file + ": policy templates are not supported");
        }
        List<Policy> policies = new ArrayList<>(parsed.policies);
        // The parser names policies policy0..N in source order; the set does not keep that order.
        policies.sort(Comparator.comparingInt(CedarPolicyEngine::indexOf));
        return policies;
    }

    private static int indexOf(Policy parsed) {
        String id = parsed.getID();
        try {
            return Integer.parseInt(id.replaceFirst("^\\D+", ""));
        } catch (RuntimeException e) {
            throw new PolicyLoadException("unexpected parser policy id " + id);
        }
    }

    private static LoadedPolicy describe(String file, Policy parsed, int index, Map<String, LoadedPolicy> loaded) {
        Map<String, String> annotations;
        Effect effect;
        try {
            annotations = Map.copyOf(parsed.getAnnotations());
            effect = parsed.effect();
        } catch (InternalException | RuntimeException e) {
            throw new PolicyLoadException(file + ": policy " + index + " cannot be read: " + e.getMessage(), e);
        }
        String id = annotations.getOrDefault(ANNOTATION_ID, stem(file) + "." + index);
        if (id.isBlank()) {
            throw new PolicyLoadException(file + ": policy " + index + " has an empty @id");
        }
        LoadedPolicy previous = loaded.get(id);
        if (previous != null) {
            throw new PolicyLoadException(file + ": duplicate policy id \"" + id + "\" (also in " + previous.file() + ")");
        }
        String approval = annotations.get(ANNOTATION_APPROVAL);
        if (approval != null && effect != Effect.FORBID) {
            throw new PolicyLoadException(file + ": policy " + id + ": @approval is only meaningful on a forbid");
        }
        if (approval != null && approval.isBlank()) {
            throw new PolicyLoadException(file + ": policy " + id + ": @approval must name the approver group");
        }
        return new LoadedPolicy(id, file, effect, annotations);
    }

    private static void validate(Schema schema, PolicySet policySet, Map<String, LoadedPolicy> loaded) {
        ValidationResponse response;
        try {
            response = ENGINE.validate(new ValidationRequest(schema, policySet));
        } catch (AuthException | RuntimeException e) {
            throw new PolicyLoadException("cannot validate policies: " + e.getMessage(), e);
        }
        List<String> problems = new ArrayList<>();
        if (response.type != ValidationResponse.SuccessOrFailure.Success || response.success.isEmpty()) {
            response.errors.ifPresent(errors -> errors.forEach(e -> problems.add(message(e))));
            if (problems.isEmpty()) {
                problems.add("the validator failed without detail");
            }
        } else {
            for (ValidationResponse.ValidationError error : response.success.get().validationErrors) {
                LoadedPolicy policy = loaded.get(error.getPolicyId());
                String where = policy == null ? "policy " + error.getPolicyId()
                        : policy.file() + ": policy " + policy.id();
                problems.add(where + ": " + message(error.getError()));
            }
        }
        if (!problems.isEmpty()) {
            throw new PolicyLoadException("invalid policies: " + String.join("; ", problems));
        }
    }

    private static String message(DetailedError error) {
        return error.help.filter(h -> !h.isBlank()).map(h -> error.message + " (" + h + ")").orElse(error.message);
    }

    private static boolean inTestsFolder(Path relative) {
        for (int i = 0; i < relative.getNameCount() - 1; i++) {
            if (relative.getName(i).toString().equals(TESTS_FOLDER)) {
                return true;
            }
        }
        return false;
    }

    private static String relativeName(Path relative) {
        List<String> parts = new ArrayList<>();
        relative.forEach(p -> parts.add(p.toString()));
        return String.join("/", parts);
    }

    private static String stem(String file) {
        String name = file.substring(file.lastIndexOf('/') + 1);
        return name.endsWith(POLICY_SUFFIX) ? name.substring(0, name.length() - POLICY_SUFFIX.length()) : name;
    }

    // ---- values ----------------------------------------------------------------------------------

    private static Map<String, Value> record(Map<String, Object> values, Map<EntityUID, Entity> referenced) {
        Map<String, Value> record = new HashMap<>();
        for (Map.Entry<String, Object> entry : values.entrySet()) {
            // A null is an absent optional attribute, such as approval.approver before approval.
            if (entry.getValue() != null) {
                record.put(Objects.requireNonNull(entry.getKey(), "attribute name"),
                        value(entry.getValue(), referenced));
            }
        }
        return record;
    }

    private static Value value(Object value, Map<EntityUID, Entity> referenced) {
        if (value instanceof String s) {
            return new PrimString(s);
        }
        if (value instanceof Long || value instanceof Integer || value instanceof Short || value instanceof Byte) {
            return new PrimLong(((Number) value).longValue());
        }
        if (value instanceof Boolean b) {
            return new PrimBool(b);
        }
        if (value instanceof EntityRef ref) {
            EntityUID uid = uid(ref);
            referenced.putIfAbsent(uid, new Entity(uid));
            return uid;
        }
        if (value instanceof IpAddress ip) {
            return new com.cedarpolicy.value.IpAddress(Objects.requireNonNull(ip.address(), "ip address"));
        }
        if (value instanceof Collection<?> items) {
            List<Value> list = new ArrayList<>(items.size());
            for (Object item : items) {
                list.add(value(Objects.requireNonNull(item, "set element"), referenced));
            }
            return new CedarList(list);
        }
        if (value instanceof Map<?, ?> map) {
            Map<String, Object> fields = new LinkedHashMap<>();
            map.forEach((k, v) -> fields.put((String) k, v));
            return new CedarMap(record(fields, referenced));
        }
        throw new IllegalArgumentException("unsupported Cedar value type: " + value.getClass().getName());
    }

    static EntityUID uid(EntityRef ref) {
        return typeName(ref.type()).of(ref.id());
    }

    /** The namespaced type as Cedar parses it (cached); throws for a name Cedar rejects, such as a reserved word. */
    static EntityTypeName typeName(String type) {
        return TYPE_NAMES.computeIfAbsent(type, t -> EntityTypeName.parse(NAMESPACE + "::" + t)
                .orElseThrow(() -> new IllegalArgumentException("invalid entity type: " + t)));
    }

    private static Map<Action, EntityUID> actionUids() {
        Map<Action, EntityUID> uids = new EnumMap<>(Action.class);
        EntityTypeName actionType = EntityTypeName.parse(NAMESPACE + "::Action").orElseThrow();
        for (Action action : Action.values()) {
            uids.put(action, actionType.of(action.name()));
        }
        return Collections.unmodifiableMap(uids);
    }

    private static String truncate(String text) {
        String value = String.valueOf(text);
        return value.length() <= MAX_ERROR_CHARS ? value : value.substring(0, MAX_ERROR_CHARS) + "…";
    }
}
