import io

HEADER = (
    "earned date,partner ID,program code,amount,currency,earning type,product,customer reference,external line ID\n"
)


def csv_file(*rows: str) -> io.BytesIO:
    return io.BytesIO((HEADER + "".join(r + "\n" for r in rows)).encode())
