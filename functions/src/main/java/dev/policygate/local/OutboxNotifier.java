package dev.policygate.local;

import dev.policygate.core.approval.ApprovalNotice;
import dev.policygate.core.approval.Notifier;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.UUID;

/**
 * Local "email": writes each approval notice as an RFC 5322 message with text and HTML parts
 * to {@code <data-dir>/outbox/*.eml}, and prints the link to the console.
 */
final class OutboxNotifier implements Notifier {
    private final Path outbox;
    private final PrintStream console;

    OutboxNotifier(Path dataDir, PrintStream console) throws IOException {
        this.outbox = Files.createDirectories(dataDir.resolve("outbox"));
        this.console = console;
    }

    @Override
    public void send(ApprovalNotice n) throws IOException {
        String boundary = "pg-" + UUID.randomUUID();
        String text = "A Claude request needs your approval.\n\n"
                + "Requested by: " + n.requester() + "\nModel: " + n.model() + "\nWhy: " + n.reason()
                + "\nExpires: " + n.expiresAt() + "\n\nPrompt (masked excerpt):\n" + n.maskedExcerpt()
                + "\n\nReview and decide (the link is yours alone and works once):\n" + n.link() + "\n";
        String html = "<p>A Claude request needs your approval.</p><ul><li><b>Requested by:</b> "
                + esc(n.requester()) + "</li><li><b>Model:</b> " + esc(n.model()) + "</li><li><b>Why:</b> "
                + esc(n.reason()) + "</li><li><b>Expires:</b> " + esc(n.expiresAt().toString())
                + "</li></ul><pre>" + esc(n.maskedExcerpt()) + "</pre><p><a href=\"" + esc(n.link())
                + "\">Review and decide</a></p>";
        String eml = "From: Policygate <policygate@localhost>\r\n"
                + "To: " + n.approverEmail() + "\r\n"
                + "Subject: Approval needed: " + n.model() + " request from " + n.requester() + "\r\n"
                + "Date: " + DateTimeFormatter.RFC_1123_DATE_TIME.format(ZonedDateTime.now(ZoneOffset.UTC)) + "\r\n"
                + "MIME-Version: 1.0\r\n"
                + "Content-Type: multipart/alternative; boundary=\"" + boundary + "\"\r\n\r\n"
                + "--" + boundary + "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                + Base64.getMimeEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8)) + "\r\n"
                + "--" + boundary + "\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                + Base64.getMimeEncoder().encodeToString(html.getBytes(StandardCharsets.UTF_8)) + "\r\n"
                + "--" + boundary + "--\r\n";
        String safeName = n.approverEmail().replaceAll("[^A-Za-z0-9._-]", "_");
        Files.writeString(outbox.resolve(n.approvalId() + "-" + safeName + ".eml"), eml, StandardCharsets.UTF_8);
        console.println("[policygate] approval needed from " + n.approverEmail() + ": " + n.link());
    }

    private static String esc(String s) {
        return s == null ? "" : s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                .replace("\"", "&quot;");
    }
}
