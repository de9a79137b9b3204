package dev.policygate.infra;

import io.github.cdklabs.cdknag.AwsSolutionsChecks;
import io.github.cdklabs.cdknag.NagPackProps;
import software.amazon.awscdk.App;
import software.amazon.awscdk.AppProps;
import software.amazon.awscdk.Aspects;
import software.amazon.awscdk.Environment;
import software.amazon.awscdk.StackProps;
import software.amazon.awscdk.Tags;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The CDK app: one {@link PolicygateStack}, checked by cdk-nag's AWS Solutions rules. Run by the
 * CDK CLI through {@code cdk.json}, which builds and runs this class with Maven.
 *
 * <p>Paths come from system properties set by {@code infra-cdk/pom.xml}: {@value #LAMBDA_JAR} (the
 * functions module's {@code policygate-lambda.jar}, which follows {@code -Dpg.target}) and
 * {@value #REPO_ROOT} (for {@code statemachines/approval.asl.json}).
 */
public final class PolicygateApp {
    public static final String LAMBDA_JAR = "policygate.lambdaJar";
    public static final String REPO_ROOT = "policygate.repoRoot";
    public static final String STACK_NAME = "Policygate";

    private PolicygateApp() {
    }

    public static void main(String[] args) {
        App app = newApp();
        build(app);
        app.synth();
    }

    /** Outside the CLI CDK_OUTDIR is unset; without an outdir CDK writes to a temporary folder it deletes. */
    static App newApp() {
        String outdir = System.getenv("CDK_OUTDIR");
        return new App(AppProps.builder().outdir(outdir == null ? "cdk.out" : outdir).build());
    }

    /** Adds the stack and the nag checks to {@code app}. */
    public static PolicygateStack build(App app) {
        // behaviours the stack relies on, whatever cdk.json says: access logs delivered through a
        // bucket policy (no ACLs), and no account-wide API Gateway role unless asked for
        app.getNode().setContext("@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy", true);
        PolicygateConfig config = PolicygateConfig.fromContext(app.getNode());
        String account = System.getenv("CDK_DEFAULT_ACCOUNT");
        String region = System.getenv("CDK_DEFAULT_REGION");
        PolicygateStack stack = new PolicygateStack(app, STACK_NAME, StackProps.builder()
                .description("Policygate: policy-as-code gateway for the Claude Messages API")
                .env(account == null && region == null ? null
                        : Environment.builder().account(account).region(region).build())
                .build(), config, lambdaJar(), repoRoot().resolve("statemachines/approval.asl.json"));
        Tags.of(stack).add("app", "policygate");
        Aspects.of(app).add(new AwsSolutionsChecks(NagPackProps.builder().verbose(true).build()));
        return stack;
    }

    /** The Lambda deployment package; a missing jar stops the synth with the command that builds it. */
    public static Path lambdaJar() {
        String configured = System.getProperty(LAMBDA_JAR);
        Path jar = configured != null ? Path.of(configured)
                : repoRoot().resolve("functions/target/policygate-lambda.jar");
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException("the Lambda package " + jar.toAbsolutePath().normalize()
                    + " does not exist. Build it first, from the repository root: "
                    + "mvn -B -DskipTests -pl functions -am package "
                    + "(or run the whole build, mvn -B verify, which packages functions before infra-cdk)");
        }
        return jar;
    }

    static Path repoRoot() {
        String configured = System.getProperty(REPO_ROOT);
        if (configured != null) {
            return Path.of(configured);
        }
        Path cwd = Path.of("").toAbsolutePath();
        return Files.isDirectory(cwd.resolve("statemachines")) ? cwd : cwd.getParent();
    }
}
