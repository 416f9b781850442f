// OpenAI's Responses API as a client format: OpenAI-compatible and Azure
// deployments take the client's body natively (their answers keep state for
// previous_response_id); Anthropic and Bedrock deployments are sent its
// chat translation and answer in the API's shapes.
import { adapterFor } from "../providers/index.js";
import { openaiCompatible } from "../providers/openai.js";
import type { ClientFormat } from "./client-format.js";
import { chatToResponse, ChatToResponsesStream } from "./responses-answer.js";
import { nativeResponses } from "./responses-native.js";
import { responsesToChat, type ResponsesRequest } from "./responses-request.js";
import { decodeResponseId } from "./response-id.js";

export const responsesApi: ClientFormat<ResponsesRequest> = {
  speaks: (deployment) => deployment.provider === "azure" || adapterFor(deployment) === openaiCompatible,
  native: nativeResponses,
  pinned(request) {
    const origin = request.previous_response_id ? decodeResponseId(request.previous_response_id) : undefined;
    if (!origin) return undefined;
    return { deploymentId: origin.deploymentId, request: { ...request, previous_response_id: origin.upstreamId } };
  },
  toChat: responsesToChat,
  answer: (completion, model) => JSON.stringify(chatToResponse(JSON.parse(completion) as Record<string, unknown>, model)),
  stream: (model) => new ChatToResponsesStream(model),
  streamError: (message) =>
    `event: error\ndata: ${JSON.stringify({ type: "error", code: "upstream_error", message, param: null, sequence_number: 0 })}\n\n`,
};
