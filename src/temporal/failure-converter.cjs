// Loaded by path (dataConverter.failureConverterPath) by the SDK's require() in workers and clients and by the
// workflow bundler: plain CommonJS so every loader (tsx, vitest, webpack) takes it as it is.
// encodeCommonAttributes moves failure messages and stack traces into a payload, which the payload codec encrypts.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- CommonJS on purpose (see above)
const { DefaultFailureConverter } = require('@temporalio/common');

exports.failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
