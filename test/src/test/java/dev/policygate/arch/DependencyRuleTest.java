package dev.policygate.arch;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

/**
 * The dependency rule: the core (analysis, normalisation, detection, masking, decision,
 * sessions, approval, gateway use case) runs unchanged in Lambda, in the local server and in
 * tests, so it must not know AWS, Lambda or any HTTP server or client.
 */
class DependencyRuleTest {
    private static final JavaClasses CLASSES = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            // the functions module's test-jar (shared test helpers) and test classes in any build folder
            .withImportOption(location -> !location.contains("-tests.jar") && !location.contains("/test-classes/"))
            .importPackages("dev.policygate");

    @Test
    void core_dependsOnNoAwsLambdaOrHttpTypes() {
        ArchRule rule = noClasses().that().resideInAPackage("dev.policygate.core..")
                .should().dependOnClassesThat().resideInAnyPackage(
                        "software.amazon..", "com.amazonaws..", "com.sun.net.httpserver..", "java.net.http..",
                        "jakarta.servlet..", "javax.servlet..", "org.eclipse.jetty..", "io.netty..", "io.undertow..",
                        "okhttp3..", "dev.policygate.local..", "dev.policygate.adapters..");
        rule.check(CLASSES);
    }

    @Test
    void core_isImported_soTheRuleAboveCannotPassVacuously() {
        org.assertj.core.api.Assertions.assertThat(CLASSES.stream()
                .filter(c -> c.getPackageName().startsWith("dev.policygate.core")).count()).isGreaterThan(30);
    }

    @Test
    void awsAdaptersAndHandlers_doNotDependOnTheLocalServer() {
        noClasses().that().resideInAPackage("dev.policygate.aws..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.policygate.local..", "com.sun.net.httpserver..")
                .check(CLASSES);
    }

    @Test
    void adapters_doNotDependOnTheLocalServer() {
        noClasses().that().resideInAPackage("dev.policygate.adapters..")
                .should().dependOnClassesThat().resideInAPackage("dev.policygate.local..")
                .check(CLASSES);
    }
}
