/** A PSKC file of one TOTP key, serial CD-1, whose device appends a Luhn check digit to each code (RFC 6030 ResponseFormat CheckDigits). */
export const CHECK_DIGIT_PSKC = `<?xml version="1.0" encoding="UTF-8"?>
<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc">
  <KeyPackage>
    <DeviceInfo><SerialNo>CD-1</SerialNo></DeviceInfo>
    <Key Id="CD-1" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:totp">
      <AlgorithmParameters><ResponseFormat Length="6" Encoding="DECIMAL" CheckDigits="true"/></AlgorithmParameters>
      <Data><Secret><PlainValue>yFCMIN/kPhJ/2PGqTNkq587USZM=</PlainValue></Secret></Data>
    </Key>
  </KeyPackage>
</KeyContainer>
`;
