package dev.policygate.local;

import dev.policygate.core.approval.ApprovalEmail;
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
        ApprovalEmail mail = ApprovalEmail.of(n);
        String eml = "From: Policygate <policygate@localhost>\r\n"
                + "To: " + mail.to() + "\r\n"
                + "Subject: =?UTF-8?B?" + Base64.getEncoder().encodeToString(mail.subject().getBytes(StandardCharsets.UTF_8))
                + "?=\r\n"
                + "Date: " + DateTimeFormatter.RFC_1123_DATE_TIME.format(ZonedDateTime.now(ZoneOffset.UTC)) + "\r\n"
                + "MIME-Version: 1.0\r\n"
                + "Content-Type: multipart/alternative; boundary=\"" + boundary + "\"\r\n\r\n"
                + "--" + boundary + "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                + Base64.getMimeEncoder().encodeToString(mail.text().getBytes(StandardCharsets.UTF_8)) + "\r\n"
                + "--" + boundary + "\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                + Base64.getMimeEncoder().encodeToString(mail.html().getBytes(StandardCharsets.UTF_8)) + "\r\n"
                + "--" + boundary + "--\r\n";
        String safeName = n.approverEmail().replaceAll("[^A-Za-z0-9._-]", "_");
        Files.writeString(outbox.resolve(n.approvalId() + "-" + safeName + ".eml"), eml, StandardCharsets.UTF_8);
        console.println("[policygate] approval needed from " + n.approverEmail() + ": " + n.link());
    }
}
