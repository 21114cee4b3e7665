// A plain-JS objective module for the built package's thread pool (no bundling needed).
export async function objective(trial) {
  const { x, kind } = trial.params;
  let value = 0;
  for (let epoch = 1; epoch <= 4; epoch++) {
    await new Promise((r) => setTimeout(r, Math.random() * 3));
    value = (x - 0.3) ** 2 + (kind === 'b' ? 0 : 0.2) + 1 / epoch;
    if (trial.report(epoch, value)) break;
  }
  return value;
}
