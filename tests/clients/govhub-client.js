// A department's Node.js system using the `soap` package from npm, from /soap?wsdl alone:
// Submit (Chinese names), a duplicate, GetStatus, a refused record, reading the fault's code.
// Arguments: the WSDL's URL, then 11 or 12. Prints one JSON object with what it saw.
const crypto = require('crypto');
const soap = require('soap');

const [wsdl, version] = process.argv.slice(2);
const soap12 = version === '12';

function header(key) {
  return {
    messageId: crypto.randomUUID(),
    sender: 'MARRIAGE_REGISTRY',
    messageType: 'MarriageRegistered',
    schemaVersion: '1.0',
    idempotencyKey: key,
    purpose: 'marriage registration, Marriage Registration Regulations art. 7',
    sentAt: new Date().toISOString(),
  };
}

function marriage(husband) {
  const person = (identityNumber, name, sex) => ({ identityNumber, name, sex });
  return {
    MarriageRegistered: {
      registrationNumber: 'J110105-20260520-0001',
      registeredOn: '2026-05-20',
      registrationOffice: '110105',
      partyA: person(husband, '张伟', '1'),
      partyB: person('110108199208152429', '王芳', '2'),
      maritalStatus: '20',
    },
  };
}

function call(port, operation, args) {
  return new Promise((resolve, reject) => {
    port[operation](args, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

function faultCode(error) {
  const fault = error.root.Envelope.Body.Fault;
  if (fault.faultcode) return { code: fault.faultcode };
  return { code: fault.Code.Value, subcode: fault.Code.Subcode.Value };
}

(async () => {
  const client = await soap.createClientAsync(wsdl, { forceSoap12Headers: soap12 });
  const port = client.GovHub[soap12 ? 'GovHubSoap12' : 'GovHubSoap11'];
  const key = crypto.randomUUID();
  const seen = {};
  const receipt = (await call(port, 'Submit', { header: header(key), message: marriage('110105199003071319') })).SubmitResult;
  seen.submit = receipt;
  seen.duplicate = (await call(port, 'Submit', { header: header(key), message: marriage('110105199003071319') })).SubmitResult;
  seen.status = (await call(port, 'GetStatus', { messageId: receipt.messageId })).GetStatusResult;
  try {
    await call(port, 'Submit', { header: header(crypto.randomUUID()), message: marriage('110105199003071310') });
  } catch (error) {
    seen.refused = { status: error.response.status, ...faultCode(error) };
  }
  console.log(JSON.stringify(seen));
})().catch((error) => {
  console.error(error.stack || error);
  process.exit(1);
});
