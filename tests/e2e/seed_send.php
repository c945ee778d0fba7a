<?php
// The PHP example of the PureSMS developer page (https://puresms.uk, "PHP Example"), as
// published, with only these changes: the base URL comes from the first command-line
// argument (or PURESMS_BASE_URL) instead of https://api.puresms.uk; the closing brackets
// the page lost in rendering are restored; and the HTTP status and body are printed at
// the end. tests/e2e/test_seed_examples.py runs it against a live mock.
$baseUrl = rtrim($argv[1] ?? (getenv('PURESMS_BASE_URL') ?: 'https://api.puresms.uk'), '/');

$apiKey = "My API Key";
$testMode = true;
$outboundSms = array(
    'to' => '4471234123123',
    'from' => 'Somebody',
    'content' => 'Hello this is my first SMS'
);

$curl = curl_init($baseUrl . '/v1/Sms/Send' . ($testMode ? '?isTest=true' : ''));
curl_setopt($curl, CURLOPT_POST, true);
curl_setopt($curl, CURLOPT_POSTFIELDS, json_encode($outboundSms));
curl_setopt($curl, CURLOPT_RETURNTRANSFER, true);
curl_setopt($curl, CURLOPT_HTTPHEADER, array(
    'X-API-Key: ' . $apiKey,
    'Content-Type: application/json'));
$result = curl_exec($curl);
$status = curl_getinfo($curl, CURLINFO_HTTP_CODE);

if ($status == 200) {
    echo 'The test was successful.';
} else {
    echo 'The test failed';
}

echo "\n";
echo 'HTTP status: ' . $status . "\n";
echo 'Body: ' . $result . "\n";
