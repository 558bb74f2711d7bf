// The Vercel AI SDK (`ai` + `@ai-sdk/openai`) with its OpenTelemetry spans (experimental_telemetry),
// exported by the stock OTLP/HTTP exporter (JSON) configured by the OTEL_EXPORTER_OTLP_TRACES_*
// variables the test passes: our server and key. The provider talks to the fake OpenAI server.
// Scenarios: a text generation with a tool call (two steps); a streamed text; an embedding; a
// generation the provider refuses. Writes what it recorded to COMPAT_RECORD, like _export.py.
"use strict";
const fs = require("node:fs");
const { NodeTracerProvider } = require("@opentelemetry/sdk-trace-node");
const { BatchSpanProcessor, SimpleSpanProcessor, InMemorySpanExporter } = require("@opentelemetry/sdk-trace-base");
const { OTLPTraceExporter } = require("@opentelemetry/exporter-trace-otlp-http");
const { generateText, streamText, embed, tool, jsonSchema, stepCountIs } = require("ai");
const { createOpenAI } = require("@ai-sdk/openai");

const recorder = new InMemorySpanExporter();
const exporter = new OTLPTraceExporter(); // endpoint and headers from OTEL_EXPORTER_OTLP_TRACES_*
let exportFailures = 0;
const checked = {
  export(spans, done) {
    exporter.export(spans, (result) => {
      if (result.code !== 0) exportFailures += 1;
      done(result);
    });
  },
  shutdown: () => exporter.shutdown(),
  forceFlush: () => exporter.forceFlush(),
};
const provider = new NodeTracerProvider({
  spanProcessors: [new BatchSpanProcessor(checked), new SimpleSpanProcessor(recorder)],
});
provider.register();

const openai = createOpenAI({ baseURL: process.env.COMPAT_OPENAI_BASE_URL, apiKey: "sk-fake" });
const telemetry = (functionId) => ({ isEnabled: true, functionId, metadata: { app: "vercel-compat" } });
const weather = tool({
  description: "The current weather in a city.",
  inputSchema: jsonSchema({ type: "object", properties: { city: { type: "string" } }, required: ["city"] }),
  execute: async ({ city }) => `Sunny in ${city}`,
});

const scenarios = {};
const errors = {};
const seen = new Set();
function claim(name) {
  const ids = [];
  for (const span of recorder.getFinishedSpans()) {
    const id = span.spanContext().traceId;
    if (!seen.has(id)) {
      seen.add(id);
      ids.push(id);
    }
  }
  scenarios[name] = ids;
}

async function main() {
  const answer = await generateText({
    model: openai.chat("gpt-4o-mini"),
    system: "Use the tools.",
    prompt: "What is the weather in Paris?",
    tools: { get_weather: weather },
    stopWhen: stepCountIs(3),
    temperature: 0.2,
    maxRetries: 0,
    experimental_telemetry: telemetry("weather-question"),
  });
  if (answer.text !== "Echo: What is the weather in Paris?") throw new Error(`unexpected: ${answer.text}`);
  claim("tool");

  const stream = streamText({
    model: openai.chat("gpt-4o-mini"),
    prompt: "Stream please",
    maxRetries: 0,
    experimental_telemetry: telemetry("stream-question"),
  });
  let text = "";
  for await (const part of stream.textStream) text += part;
  if (text !== "Echo: Stream please") throw new Error(`unexpected: ${text}`);
  await stream.usage; // the stream's spans end once it is consumed
  claim("stream");

  await embed({
    model: openai.embedding("text-embedding-3-small"),
    value: "Paris is the capital of France.",
    maxRetries: 0,
    experimental_telemetry: telemetry("embed-fact"),
  });
  claim("embedding");

  try {
    await generateText({
      model: openai.chat("fail-model"),
      prompt: "Hello",
      maxRetries: 0,
      experimental_telemetry: telemetry("refused-question"),
    });
    throw new Error("the refused call succeeded");
  } catch (error) {
    if (String(error.message).includes("succeeded")) throw error;
    errors.failure = `${error.name}: ${error.message}`;
  }
  claim("failure");

  const spans = recorder.getFinishedSpans().map((span) => ({
    name: span.name,
    trace_id: span.spanContext().traceId,
    span_id: span.spanContext().spanId,
    parent_id: (span.parentSpanContext && span.parentSpanContext.spanId) || span.parentSpanId || null,
    scope: span.instrumentationScope ? span.instrumentationScope.name : span.instrumentationLibrary.name,
    start: span.startTime,
    end: span.endTime,
    status: { code: ["UNSET", "OK", "ERROR"][span.status.code], description: span.status.message || null },
    attributes: span.attributes,
    events: span.events.map((event) => ({ name: event.name, attributes: event.attributes || {} })),
  }));
  await provider.forceFlush();
  await provider.shutdown();
  if (exportFailures) throw new Error(`${exportFailures} OTLP exports failed`);
  fs.writeFileSync(process.env.COMPAT_RECORD, JSON.stringify({ scenarios, errors, spans }, null, 1));
  process.stderr.write(`${spans.length} spans in ${Object.keys(scenarios).length} scenarios\n`);
}

main().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(1);
});
