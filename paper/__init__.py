"""Paper questionnaires by post: packs printed for posting and scanned returns read back
(QR codes and optical mark recognition) into the double data entry of questionnaires."""
