package dev.policygate.aws.ses;

import dev.policygate.core.approval.ApprovalEmail;
import dev.policygate.core.approval.ApprovalNotice;
import dev.policygate.core.approval.Notifier;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.sesv2.SesV2Client;
import software.amazon.awssdk.services.sesv2.model.Content;
import software.amazon.awssdk.services.sesv2.model.SendEmailRequest;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Emails an approver their own link through Amazon SES (v2 {@code SendEmail}), with a text and
 * an HTML part ({@link ApprovalEmail}). The link is the only way to act on the approval, so a
 * send failure is an {@link IOException}: the notify step fails, and the workflow records it.
 */
public final class SesNotifier implements Notifier {
    private final SesV2Client ses;
    private final String from;
    private final String configurationSet;

    /** @param configurationSet an SES configuration set for delivery events, or null */
    public SesNotifier(SesV2Client ses, String from, String configurationSet) {
        this.ses = ses;
        this.from = from;
        this.configurationSet = configurationSet;
    }

    @Override
    public void send(ApprovalNotice notice) throws IOException {
        ApprovalEmail mail = ApprovalEmail.of(notice);
        SendEmailRequest.Builder req = SendEmailRequest.builder()
                .fromEmailAddress(from)
                .destination(d -> d.toAddresses(mail.to()))
                .content(c -> c.simple(m -> m
                        .subject(text(mail.subject()))
                        .body(b -> b.text(text(mail.text())).html(text(mail.html())))));
        if (configurationSet != null) {
            req.configurationSetName(configurationSet);
        }
        try {
            ses.sendEmail(req.build());
        } catch (SdkException e) {
            // the message names neither the link nor the recipient
            throw new IOException("SES SendEmail failed: " + e.getClass().getSimpleName(), e);
        }
    }

    private static Content text(String s) {
        return Content.builder().data(s).charset(StandardCharsets.UTF_8.name()).build();
    }
}
