package dev.policygate.aws.lambda;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.APIGatewayProxyRequestEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayProxyResponseEvent;
import dev.policygate.aws.logging.LambdaLogging;
import dev.policygate.core.gateway.Gateway;

import java.util.Map;

/**
 * The approval pages behind API Gateway ({@code /approvals/{id}}): GET shows the confirmation
 * page and changes nothing; POST applies Approve or Deny once and resumes the state machine
 * ({@code SendTaskSuccess} / {@code SendTaskFailure}). Only {@code /approvals/} paths are served
 * here; anything else is a 404, whatever API Gateway sends.
 */
public final class ApprovalCallbackHandler
        implements RequestHandler<APIGatewayProxyRequestEvent, APIGatewayProxyResponseEvent> {
    static {
        LambdaLogging.install();
    }

    private final GatewayHandler proxy;

    /** Lambda's constructor: reads the environment and builds everything once, during INIT. */
    public ApprovalCallbackHandler() {
        this(AwsSettings.fromEnvironment(System.getenv()),
                ApprovalSettings.fromEnvironment(System.getenv(), ApprovalSettings.Role.CALLBACK));
    }

    private ApprovalCallbackHandler(AwsSettings settings, ApprovalSettings approval) {
        this(LambdaWiring.production(settings, approval, ApprovalSettings.Role.CALLBACK).gateway());
    }

    /** For tests: a gateway wired in the callback role. */
    public ApprovalCallbackHandler(Gateway gateway) {
        // an approval form is a few hundred bytes; the gateway refuses more than 8 KB anyway
        this.proxy = new GatewayHandler(gateway, 16 * 1024);
    }

    @Override
    public APIGatewayProxyResponseEvent handleRequest(APIGatewayProxyRequestEvent event, Context context) {
        String path = event == null ? null : event.getPath();
        if (path == null || !path.startsWith("/approvals/")) {
            return new APIGatewayProxyResponseEvent().withStatusCode(404)
                    .withHeaders(Map.of("content-type", "text/plain; charset=utf-8"))
                    .withBody("Not found.");
        }
        return proxy.handleRequest(event, context);
    }
}
