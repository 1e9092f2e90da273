// Runs a state machine definition (ASL) with aws-local-stepfunctions, an independent ASL
// interpreter, every Task state bridged over HTTP to the test process (which runs the real
// Python handler, or publishes to moto's SNS).
//
//   node asl_run.mjs <definition.json> <input.json> <bridge URL>
//
// Prints one JSON line: {status: SUCCEEDED|FAILED, output?, error?, cause?, states: [...entered]}.
// A bridged task that answers {errorType, errorMessage} throws an Error named errorType: the
// interpreter matches Retry/Catch on the error's name, as Step Functions matches a Lambda
// function's errorType.

// aws-local-stepfunctions 3 needs Node 22's Promise.withResolvers (its Task timeout); Node 20
// lacks it. Same semantics, one line.
Promise.withResolvers ??= function () { let resolve, reject; const promise = new Promise((a, b) => { resolve = a; reject = b; }); return { promise, resolve, reject }; };

import { readFileSync } from "node:fs";
import { StateMachine } from "aws-local-stepfunctions";

const [definitionPath, inputPath, bridge] = process.argv.slice(2);
const definition = JSON.parse(readFileSync(definitionPath, "utf8"));
const input = JSON.parse(readFileSync(inputPath, "utf8"));

const handlers = {};
const retries = {};
for (const [name, state] of Object.entries(definition.States)) {
  if (state.Type !== "Task") continue;
  handlers[name] = async (taskInput) => {
    const res = await fetch(bridge, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ state: name, resource: state.Resource, input: taskInput }),
    });
    const body = await res.json();
    if (body.errorType) {
      const err = new Error(body.errorMessage ?? body.errorType);
      err.name = body.errorType;
      throw err;
    }
    return body.result;
  };
  // Keep the Retry policies as written (which errors, how many attempts), not their pauses.
  if (state.Retry) retries[name] = 0;
}
// Wait states (collect's loop waits for X's rate-limit reset) take no real time: the test
// checks the timestamps they were given instead (the bridge sees each invocation's input).
const waits = {};
for (const [name, state] of Object.entries(definition.States)) {
  if (state.Type === "Wait") waits[name] = 0;
}

const machine = new StateMachine(definition, { validationOptions: { checkPaths: true, checkArn: true } });
const executionArn = "arn:aws:states:eu-west-3:123456789012:execution:opinion-barometer:test";
const execution = machine.run(input, {
  overrides: { taskResourceLocalHandlers: handlers, retryIntervalOverrides: retries, waitTimeOverrides: waits },
  context: {
    Execution: { Id: executionArn, Name: "test" },
    StateMachine: { Id: "arn:aws:states:eu-west-3:123456789012:stateMachine:opinion-barometer", Name: "opinion-barometer" },
  },
});

const states = [];
const collect = (async () => {
  for await (const event of execution.eventLogs) {
    if (event.type === "StateEntered") states.push(event.state.name);
  }
})();

let out;
try {
  out = { status: "SUCCEEDED", output: await execution.result };
} catch (e) {
  const cause = e.cause ?? e;
  out = { status: "FAILED", error: cause.name, cause: cause.message };
}
await collect.catch(() => {});
process.stdout.write(JSON.stringify({ ...out, states }) + "\n");
