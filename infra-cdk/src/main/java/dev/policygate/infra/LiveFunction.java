package dev.policygate.infra;

import software.amazon.awscdk.Annotations;
import software.amazon.awscdk.Duration;
import software.amazon.awscdk.RemovalPolicy;
import software.amazon.awscdk.services.iam.IGrantable;
import software.amazon.awscdk.services.iam.PolicyStatement;
import software.amazon.awscdk.services.iam.Role;
import software.amazon.awscdk.services.iam.ServicePrincipal;
import software.amazon.awscdk.services.lambda.Alias;
import software.amazon.awscdk.services.lambda.Architecture;
import software.amazon.awscdk.services.lambda.Code;
import software.amazon.awscdk.services.lambda.Function;
import software.amazon.awscdk.services.lambda.Runtime;
import software.amazon.awscdk.services.lambda.SnapStartConf;
import software.amazon.awscdk.services.lambda.Tracing;
import software.amazon.awscdk.services.logs.LogGroup;
import software.amazon.awscdk.services.logs.RetentionDays;
import software.constructs.Construct;

import java.util.Map;

/**
 * One Policygate Lambda function as deployed: Java 21 runtime (running Java 17 bytecode), arm64,
 * SnapStart on published versions, X-Ray active, its own log group, and its own role that starts
 * with nothing but writing to that log group. Callers and API Gateway use the alias
 * {@value #ALIAS}, which points at the version published for the current code and configuration,
 * so every invocation is served from a SnapStart snapshot.
 *
 * <p>Grant data access with {@link #allow(PolicyStatement)}: statements go to this function's role
 * only.
 */
public final class LiveFunction extends Construct {
    public static final String ALIAS = "live";

    private final Function function;
    private final Alias alias;
    private final Role role;

    /** What differs between the four functions. */
    public record Props(String handler, String description, Code code, int memoryMb, Duration timeout,
                        Map<String, String> environment) {
    }

    public LiveFunction(Construct scope, String id, Props props) {
        super(scope, id);
        LogGroup logs = LogGroup.Builder.create(this, "Logs")
                .retention(RetentionDays.THREE_MONTHS)
                .removalPolicy(RemovalPolicy.RETAIN)
                .build();
        role = Role.Builder.create(this, "Role")
                .assumedBy(new ServicePrincipal("lambda.amazonaws.com"))
                .description("Policygate " + id + ": only the actions and resources this function uses")
                .build();
        logs.grantWrite(role);
        function = Function.Builder.create(this, "Function")
                .description(props.description())
                .runtime(Runtime.JAVA_21)
                .architecture(Architecture.ARM_64)
                .handler(props.handler())
                .code(props.code())
                .memorySize(props.memoryMb())
                .timeout(props.timeout())
                .role(role)
                .logGroup(logs)
                .environment(props.environment())
                .snapStart(SnapStartConf.ON_PUBLISHED_VERSIONS)
                .tracing(Tracing.ACTIVE)
                .build();
        alias = Alias.Builder.create(this, "Live")
                .aliasName(ALIAS)
                .version(function.getCurrentVersion())
                .build();
        // SnapStart applies to published versions only; the alias above always targets one
        Annotations.of(function).acknowledgeWarning("@aws-cdk/aws-lambda:snapStartRequirePublish",
                "the live alias targets the published currentVersion");
    }

    /** The alias every caller invokes. */
    public Alias alias() {
        return alias;
    }

    public Function function() {
        return function;
    }

    public IGrantable grantee() {
        return role;
    }

    public Role role() {
        return role;
    }

    public void allow(PolicyStatement statement) {
        role.addToPolicy(statement);
    }

    public void addEnvironment(String name, String value) {
        function.addEnvironment(name, value);
    }
}
