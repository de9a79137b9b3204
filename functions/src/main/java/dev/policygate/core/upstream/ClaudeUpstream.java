package dev.policygate.core.upstream;

/**
 * Port: sends a request to Claude (Anthropic API, Bedrock, or the offline echo model) with the
 * gateway's own credential. Implementations never log or return that credential.
 */
public interface ClaudeUpstream {
    UpstreamResponse send(UpstreamRequest request) throws UpstreamException;

    /** A short, credential-free description for start-up logs, e.g. "anthropic https://api.anthropic.com". */
    String describe();
}
