package dev.policygate.e2e.aws;

import com.amazonaws.services.lambda.runtime.events.APIGatewayProxyResponseEvent;
import dev.policygate.aws.testing.AwsBackendAvailable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The confirmation page in a real headless browser (Debian's chromium and chromium-driver, which
 * {@code .ci/run} installs): an approver opens the emailed link, sees the masked request, clicks
 * Approve, and sees the result page; the request is then forwarded.
 */
@AwsBackendAvailable
class ApprovalPageBrowserTest {
    static final Path CHROMIUM = Path.of(System.getProperty("policygate.chromium", "/usr/bin/chromium"));
    static final Path CHROMEDRIVER = Path.of(System.getProperty("policygate.chromedriver", "/usr/bin/chromedriver"));
    private static AwsApprovalStack stack;
    private static WebDriver browser;
    private static Path profile;

    @BeforeAll
    static void start() throws IOException {
        if (!Files.isExecutable(CHROMIUM) || !Files.isExecutable(CHROMEDRIVER)) {
            throw new IllegalStateException("this test needs Debian's chromium and chromium-driver (" + CHROMIUM + ", "
                    + CHROMEDRIVER + "): apt-get install chromium chromium-driver, as .ci/run does");
        }
        stack = new AwsApprovalStack();
        profile = Files.createTempDirectory("pg-chromium");
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        // the flags this machine class needs: no sandbox as root, and no background traffic that a
        // closed network would refuse
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--user-data-dir=" + profile);
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(new File(CHROMEDRIVER.toString())).usingAnyFreePort().build();
        browser = new ChromeDriver(service, options);
        browser.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(30));
    }

    @AfterAll
    static void stop() throws IOException {
        if (browser != null) {
            browser.quit();
        }
        if (stack != null) {
            stack.close();
        }
        if (profile != null) {
            try (var files = Files.walk(profile)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    @Test
    void approverClicksApprove_inABrowser_andSeesTheResult() throws Exception {
        // GIVEN a request held for approval, and alice's emailed link
        String body = "{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":10000,\"messages\":[{\"role\":\"user\","
                + "\"content\":\"Plan the migration for erin@example.com\"}]}";
        APIGatewayProxyResponseEvent held = stack.call("POST", "/v1/messages", stack.developerKey, body);
        assertThat(held.getStatusCode()).isEqualTo(202);
        String sessionId = held.getHeaders().get("x-policygate-session-id");
        stack.sfnEmulator.awaitEvent(stack.executionArn(sessionId), "TaskSubmitted", Duration.ofSeconds(30));
        SesStandIn.Sent mail = stack.ses.sent.stream().filter(s -> s.to().contains("alice@example.com"))
                .reduce((a, b) -> b).orElseThrow();
        String link = ApprovalOnAwsEndToEndTest.linkIn(mail);

        // WHEN she opens it in a browser
        browser.get(link);
        assertThat(browser.getTitle()).contains("Approve this Claude request?");
        String shown = browser.findElement(By.tagName("body")).getText();
        assertThat(shown).contains("dev").contains("claude-sonnet-4-5").contains("[EMAIL]")
                .doesNotContain("erin@example.com");
        // AND clicks Approve
        browser.findElement(By.cssSelector("button[value=approve]")).click();

        // THEN she sees the result page
        new WebDriverWait(browser, Duration.ofSeconds(20)).until(ExpectedConditions.titleContains("Approved"));
        assertThat(browser.findElement(By.tagName("h1")).getText()).isEqualTo("Approved");
        // AND the request was forwarded once, and the requester can read the reply
        assertThat(stack.sfnEmulator.awaitTerminal(stack.executionArn(sessionId), Duration.ofSeconds(30)))
                .isEqualTo("SUCCEEDED");
        assertThat(stack.anthropic.received).hasSize(1);
        APIGatewayProxyResponseEvent read = stack.call("GET", "/v1/sessions/" + sessionId, stack.developerKey, null);
        assertThat(stack.json(read.getBody()).path("reply").path("content").get(0).path("text").asText())
                .isEqualTo("echo: Plan the migration for [EMAIL]");
    }
}
