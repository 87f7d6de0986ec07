// Batches DOM work into animation frames: a streamed reply's chunks are applied once per
// frame, not once per websocket message. A target's `flush()` may schedule itself again
// when it left work for the next frame (so no frame runs long).

const queue = new Set();
const afterFlush = new Set();
let requested = false;

function request() {
  if (requested) return;
  requested = true;
  document.documentElement.dataset.rendering = "";
  if (document.hidden) setTimeout(run, 16); // no animation frames in a hidden tab
  else requestAnimationFrame(run);
}

function run() {
  requested = false;
  const targets = [...queue];
  queue.clear();
  for (const target of targets) target.flush();
  for (const hook of afterFlush) hook();
  if (!requested) delete document.documentElement.dataset.rendering;
}

// Calls `target.flush()` in the next frame (once, however often it is scheduled).
export function schedule(target) {
  queue.add(target);
  request();
}

// Calls `hook()` after every frame's flushes (e.g. to keep the transcript scrolled).
export function afterEachFrame(hook) {
  afterFlush.add(hook);
}

// While work waits for a frame, <html> carries a `data-rendering` attribute (the benchmark
// waits for it to go).
