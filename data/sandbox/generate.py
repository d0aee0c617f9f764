"""Write the sandbox company seeds, data/sandbox/<CC>/seed.json (run: python data/sandbox/generate.py).

Each company gets a chart of 120+ accounts (so a client that reads one page of 100 misses some),
Products/Services with income and expense accounts, tax rates and codes including a zero rate,
and a few customers, one with an apostrophe in its name. The JSON files are committed; this script
is how they were made.
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent

COUNTRIES = {
    "US": {"currency": ("USD", "United States Dollar"), "name": "Sandbox Law Group LLC", "city": "San Mateo",
           "region": "CA", "postal": "94403", "realm": "9341452718213540"},
    "CA": {"currency": ("CAD", "Canadian Dollar"), "name": "Sandbox Legal LLP", "city": "Toronto",
           "region": "ON", "postal": "M5H 2N2", "realm": "9341452718213541"},
    "UK": {"currency": ("GBP", "British Pound Sterling"), "name": "Sandbox Solicitors Ltd", "city": "London",
           "region": "", "postal": "EC4A 1BN", "realm": "9341452718213542"},
    "AU": {"currency": ("AUD", "Australian Dollar"), "name": "Sandbox Lawyers Pty Ltd", "city": "Sydney",
           "region": "NSW", "postal": "2000", "realm": "9341452718213543"},
    "NZ": {"currency": ("NZD", "New Zealand Dollar"), "name": "Sandbox Barristers Ltd", "city": "Wellington",
           "region": "", "postal": "6011", "realm": "9341452718213544"},
}

# (number, name, AccountType, AccountSubType)
BASE_ACCOUNTS = [
    (1000, "Operating Account", "Bank", "Checking"),
    (1010, "Payroll Account", "Bank", "Checking"),
    (1020, "Savings Account", "Bank", "Savings"),
    (1030, "Client Trust Account", "Bank", "Checking"),
    (1040, "Petty Cash", "Bank", "CashOnHand"),
    (1100, "Accounts Receivable (A/R)", "Accounts Receivable", "AccountsReceivable"),
    (1200, "Undeposited Funds", "Other Current Asset", "UndepositedFunds"),
    (1210, "Prepaid Expenses", "Other Current Asset", "PrepaidExpenses"),
    (1220, "Unbilled Disbursements", "Other Current Asset", "OtherCurrentAssets"),
    (1230, "Work in Progress", "Other Current Asset", "OtherCurrentAssets"),
    (1240, "Employee Advances", "Other Current Asset", "EmployeeCashAdvances"),
    (1250, "Retainers Receivable", "Other Current Asset", "OtherCurrentAssets"),
    (1500, "Furniture and Fixtures", "Fixed Asset", "FurnitureAndFixtures"),
    (1510, "Accumulated Depreciation - Furniture", "Fixed Asset", "AccumulatedDepreciation"),
    (1520, "Computer Equipment", "Fixed Asset", "MachineryAndEquipment"),
    (1530, "Accumulated Depreciation - Computers", "Fixed Asset", "AccumulatedDepreciation"),
    (1540, "Leasehold Improvements", "Fixed Asset", "LeaseholdImprovements"),
    (1550, "Accumulated Amortisation - Leasehold", "Fixed Asset", "AccumulatedAmortization"),
    (1560, "Library and Books", "Fixed Asset", "OtherFixedAssets"),
    (1570, "Office Equipment", "Fixed Asset", "MachineryAndEquipment"),
    (1600, "Security Deposits", "Other Asset", "SecurityDeposits"),
    (1610, "Goodwill", "Other Asset", "Goodwill"),
    (2000, "Accounts Payable (A/P)", "Accounts Payable", "AccountsPayable"),
    (2100, "Firm Credit Card", "Credit Card", "CreditCard"),
    (2110, "Partner Credit Card", "Credit Card", "CreditCard"),
    (2200, "Client Trust Liability", "Other Current Liability", "TrustAccountsLiabilities"),
    (2210, "Payroll Liabilities", "Other Current Liability", "PayrollTaxPayable"),
    (2220, "Accrued Wages", "Other Current Liability", "OtherCurrentLiabilities"),
    (2230, "Accrued Expenses", "Other Current Liability", "OtherCurrentLiabilities"),
    (2240, "Unearned Retainers", "Other Current Liability", "OtherCurrentLiabilities"),
    (2250, "Client Credits Payable", "Other Current Liability", "OtherCurrentLiabilities"),
    (2260, "Line of Credit", "Other Current Liability", "LineOfCredit"),
    (2270, "Pension Contributions Payable", "Other Current Liability", "OtherCurrentLiabilities"),
    (2500, "Bank Loan", "Long Term Liability", "NotesPayable"),
    (2510, "Partner Loans", "Long Term Liability", "ShareholderNotesPayable"),
    (2520, "Office Lease Liability", "Long Term Liability", "OtherLongTermLiabilities"),
    (3000, "Opening Balance Equity", "Equity", "OpeningBalanceEquity"),
    (3100, "Partner Capital", "Equity", "PartnerContributions"),
    (3110, "Partner Drawings", "Equity", "PartnerDistributions"),
    (3200, "Retained Earnings", "Equity", "RetainedEarnings"),
    (4000, "Legal Fee Income", "Income", "ServiceFeeIncome"),
    (4010, "Litigation Fees", "Income", "ServiceFeeIncome"),
    (4020, "Conveyancing Fees", "Income", "ServiceFeeIncome"),
    (4030, "Probate and Estates Fees", "Income", "ServiceFeeIncome"),
    (4040, "Corporate and Commercial Fees", "Income", "ServiceFeeIncome"),
    (4050, "Family Law Fees", "Income", "ServiceFeeIncome"),
    (4060, "Employment Law Fees", "Income", "ServiceFeeIncome"),
    (4070, "Immigration Fees", "Income", "ServiceFeeIncome"),
    (4080, "Intellectual Property Fees", "Income", "ServiceFeeIncome"),
    (4090, "Consultation Fees", "Income", "ServiceFeeIncome"),
    (4100, "Expense Recovery Income", "Income", "OtherPrimaryIncome"),
    (4110, "Disbursement Recovery", "Income", "OtherPrimaryIncome"),
    (4120, "Photocopying Recovery", "Income", "OtherPrimaryIncome"),
    (4130, "Travel Recovery", "Income", "OtherPrimaryIncome"),
    (4140, "Courier Recovery", "Income", "OtherPrimaryIncome"),
    (4150, "Search Fee Recovery", "Income", "OtherPrimaryIncome"),
    (4200, "Discounts Given", "Income", "DiscountsRefundsGiven"),
    (4300, "Sales of Product Income", "Income", "SalesOfProductIncome"),
    (4400, "Services", "Income", "ServiceFeeIncome"),
    (4900, "Bad Debts Recovered", "Other Income", "OtherMiscellaneousIncome"),
    (4910, "Interest Earned", "Other Income", "InterestEarned"),
    (4920, "Trust Interest Income", "Other Income", "InterestEarned"),
    (4930, "Other Income", "Other Income", "OtherMiscellaneousIncome"),
    (5000, "Cost of Disbursements", "Cost of Goods Sold", "SuppliesMaterialsCogs"),
    (5010, "Court Filing Fees", "Cost of Goods Sold", "OtherCostsOfServiceCos"),
    (5020, "Expert Witness Fees", "Cost of Goods Sold", "CostOfLaborCos"),
    (5030, "Process Server Fees", "Cost of Goods Sold", "OtherCostsOfServiceCos"),
    (5040, "Search and Registry Fees", "Cost of Goods Sold", "OtherCostsOfServiceCos"),
    (5050, "Barrister and Counsel Fees", "Cost of Goods Sold", "CostOfLaborCos"),
    (5060, "Transcript Costs", "Cost of Goods Sold", "OtherCostsOfServiceCos"),
    (5070, "Translation Services", "Cost of Goods Sold", "OtherCostsOfServiceCos"),
    (5080, "Medical Records Costs", "Cost of Goods Sold", "OtherCostsOfServiceCos"),
    (5090, "Courier Costs", "Cost of Goods Sold", "ShippingFreightDeliveryCos"),
]

EXPENSES = [
    ("Advertising and Marketing", "AdvertisingPromotional"),
    ("Website and Online Listings", "AdvertisingPromotional"),
    ("Bank Charges", "BankCharges"),
    ("Merchant Fees", "BankCharges"),
    ("Bad Debts", "BadDebts"),
    ("Continuing Legal Education", "OtherMiscellaneousServiceCost"),
    ("Professional Memberships", "DuesSubscriptions"),
    ("Law Society Fees", "DuesSubscriptions"),
    ("Practising Certificates", "DuesSubscriptions"),
    ("Legal Research Subscriptions", "DuesSubscriptions"),
    ("Library Updates", "DuesSubscriptions"),
    ("Professional Indemnity Insurance", "Insurance"),
    ("Office Insurance", "Insurance"),
    ("Cyber Insurance", "Insurance"),
    ("Interest Expense", "InterestPaid"),
    ("Accounting Fees", "LegalProfessionalFees"),
    ("Consulting Fees", "LegalProfessionalFees"),
    ("Office Rent", "RentOrLeaseOfBuildings"),
    ("Storage Rent", "RentOrLeaseOfBuildings"),
    ("Equipment Lease", "EquipmentRental"),
    ("Repairs and Maintenance", "RepairMaintenance"),
    ("Cleaning", "RepairMaintenance"),
    ("Office Supplies", "OfficeGeneralAdministrativeExpenses"),
    ("Stationery and Printing", "OfficeGeneralAdministrativeExpenses"),
    ("Postage", "OfficeGeneralAdministrativeExpenses"),
    ("Software Subscriptions", "OfficeGeneralAdministrativeExpenses"),
    ("Practice Management Software", "OfficeGeneralAdministrativeExpenses"),
    ("Document Management", "OfficeGeneralAdministrativeExpenses"),
    ("IT Support", "OfficeGeneralAdministrativeExpenses"),
    ("Hosting and Backup", "OfficeGeneralAdministrativeExpenses"),
    ("Telephone", "Utilities"),
    ("Mobile Phones", "Utilities"),
    ("Internet", "Utilities"),
    ("Electricity", "Utilities"),
    ("Water", "Utilities"),
    ("Salaries - Partners", "PayrollExpenses"),
    ("Salaries - Associates", "PayrollExpenses"),
    ("Salaries - Paralegals", "PayrollExpenses"),
    ("Salaries - Support Staff", "PayrollExpenses"),
    ("Payroll Taxes", "PayrollExpenses"),
    ("Staff Benefits", "PayrollExpenses"),
    ("Pension Contributions", "PayrollExpenses"),
    ("Recruitment", "OtherMiscellaneousServiceCost"),
    ("Staff Training", "OtherMiscellaneousServiceCost"),
    ("Staff Amenities", "OtherMiscellaneousServiceCost"),
    ("Travel - Local", "Travel"),
    ("Travel - Interstate", "Travel"),
    ("Travel - Overseas", "Travel"),
    ("Accommodation", "Travel"),
    ("Parking and Tolls", "Auto"),
    ("Motor Vehicle Expenses", "Auto"),
    ("Meals and Entertainment", "EntertainmentMeals"),
    ("Client Gifts", "EntertainmentMeals"),
    ("Depreciation Expense", "OtherMiscellaneousServiceCost"),
    ("Amortisation Expense", "OtherMiscellaneousServiceCost"),
    ("Donations", "CharitableContributions"),
    ("Licences and Permits", "TaxesPaid"),
    ("Archiving and Records", "OtherMiscellaneousServiceCost"),
    ("Security", "OtherMiscellaneousServiceCost"),
    ("Uncategorized Expense", "OtherMiscellaneousServiceCost"),
]

OTHER_EXPENSES = [
    ("Penalties and Fines", "PenaltiesSettlements"),
    ("Exchange Gain or Loss", "ExchangeGainOrLoss"),
    ("Loss on Disposal of Assets", "OtherMiscellaneousExpense"),
]

TAX_ACCOUNTS = {
    "US": [("Sales Tax Payable", "SalesTaxPayable")],
    "CA": [("GST/HST Payable", "GlobalTaxPayable"), ("PST Payable (BC)", "GlobalTaxPayable"),
           ("GST/HST Suspense", "GlobalTaxSuspense"), ("PST Payable (MB)", "GlobalTaxPayable"),
           ("PST Payable (SK)", "GlobalTaxPayable"), ("QST Payable", "GlobalTaxPayable")],
    "UK": [("VAT Control", "GlobalTaxPayable"), ("VAT Suspense", "GlobalTaxSuspense")],
    "AU": [("GST Payable", "GlobalTaxPayable"), ("GST Suspense", "GlobalTaxSuspense"),
           ("PAYG Withholdings Payable", "PayrollTaxPayable")],
    "NZ": [("GST Payable", "GlobalTaxPayable"), ("GST Suspense", "GlobalTaxSuspense"),
           ("PAYE Payable", "PayrollTaxPayable")],
}

# rates: (name, RateValue, agency); codes: (name, description, [rate names]) -- a code of only 0% rates is
# zero-rated; a code of several rates is a combined code (QBO Canada's "GST/PST BC": each rate its own TaxRate,
# agency and liability account); agencies: (agency, the liability account its tax is posted to).
TAX = {
    "US": {
        "agency": "California Department of Tax and Fee Administration",
        "agencies": [("California Department of Tax and Fee Administration", "Sales Tax Payable"),
                     ("Sample State Department of Revenue", "Sales Tax Payable")],
        "rates": [("California", "7.25", None), ("San Mateo County", "1", None), ("Exempt 0%", "0", None),
                  ("Sample State", "6.25", "Sample State Department of Revenue")],
        "codes": [("California", "California state and county", ["California", "San Mateo County"]),
                  ("Out of State", "Zero-rate sales outside California", ["Exempt 0%"]),
                  ("Sample State", "Sample state sales tax 6.25%", ["Sample State"])],
    },
    "CA": {
        "agency": "Canada Revenue Agency",
        "agencies": [("Canada Revenue Agency", "GST/HST Payable"), ("Ministry of Finance (BC)", "PST Payable (BC)"),
                     ("Manitoba Finance", "PST Payable (MB)"), ("Saskatchewan Finance", "PST Payable (SK)"),
                     ("Revenu Québec", "QST Payable")],
        "rates": [("GST (ITC)", "5", None), ("HST ON", "13", None), ("PST (BC) Sales", "7", "Ministry of Finance (BC)"),
                  ("GST/HST ZR", "0", None), ("Exempt", "0", None), ("HST NS", "15", None),
                  ("PST (MB) Sales", "7", "Manitoba Finance"), ("PST (SK) Sales", "6", "Saskatchewan Finance"),
                  ("QST Sales", "9.975", "Revenu Québec")],
        "codes": [("GST", "GST 5%", ["GST (ITC)"]), ("HST ON", "HST Ontario 13%", ["HST ON"]),
                  ("GST/PST BC", "GST 5% and PST (BC) 7%", ["GST (ITC)", "PST (BC) Sales"]),
                  ("Zero-rated", "Zero-rated supplies", ["GST/HST ZR"]), ("Exempt", "Exempt supplies", ["Exempt"]),
                  ("HST NS", "HST Nova Scotia 15%", ["HST NS"]), ("PST BC", "PST (BC) 7%", ["PST (BC) Sales"]),
                  ("GST/PST MB", "GST 5% and PST (MB) 7%", ["GST (ITC)", "PST (MB) Sales"]),
                  ("GST/PST SK", "GST 5% and PST (SK) 6%", ["GST (ITC)", "PST (SK) Sales"]),
                  ("GST/QST QC", "GST 5% and QST 9.975%", ["GST (ITC)", "QST Sales"])],
    },
    "UK": {
        "agency": "HM Revenue & Customs",
        "agencies": [("HM Revenue & Customs", "VAT Control")],
        "rates": [("20.0% S", "20", None), ("5.0% R", "5", None), ("0.0% Z", "0", None), ("Exempt", "0", None)],
        "codes": [("20.0% S", "Standard rate 20%", ["20.0% S"]), ("5.0% R", "Reduced rate 5%", ["5.0% R"]),
                  ("0.0% Z", "Zero rate", ["0.0% Z"]), ("Exempt", "Exempt", ["Exempt"])],
    },
    "AU": {
        "agency": "Australian Taxation Office",
        "agencies": [("Australian Taxation Office", "GST Payable")],
        "rates": [("GST (sales)", "10", None), ("GST free (sales)", "0", None), ("Input taxed", "0", None)],
        "codes": [("GST", "GST 10%", ["GST (sales)"]), ("GST free", "GST free sales", ["GST free (sales)"]),
                  ("Input taxed", "Input taxed sales", ["Input taxed"])],
    },
    "NZ": {
        "agency": "Inland Revenue",
        "agencies": [("Inland Revenue", "GST Payable")],
        "rates": [("GST on Income", "15", None), ("Zero-rated", "0", None), ("Exempt", "0", None)],
        "codes": [("15% GST", "GST 15%", ["GST on Income"]), ("Zero-rated", "Zero-rated supplies", ["Zero-rated"]),
                  ("Exempt", "Exempt supplies", ["Exempt"])],
    },
}

# (Name, Type, Description, income account, expense account, UnitPrice)
ITEMS = [
    ("Services", "Service", "Professional services", "Services", "Cost of Disbursements", "0"),
    ("Legal Services", "Service", "Professional fees for legal work", "Legal Fee Income", "Cost of Disbursements", "350"),
    ("Litigation", "Service", "Litigation and dispute resolution", "Litigation Fees", "Barrister and Counsel Fees", "400"),
    ("Conveyancing", "Service", "Property transactions", "Conveyancing Fees", "Search and Registry Fees", "1200"),
    ("Estates", "Service", "Wills, probate and estates", "Probate and Estates Fees", "Cost of Disbursements", "300"),
    ("Consultation", "Service", "Initial consultation", "Consultation Fees", "Cost of Disbursements", "150"),
    ("Disbursements", "NonInventory", "Costs paid on the client's behalf", "Expense Recovery Income", "Cost of Disbursements", "0"),
    ("Court Filing Fees", "NonInventory", "Court and tribunal filing fees", "Disbursement Recovery", "Court Filing Fees", "0"),
    ("Photocopying", "NonInventory", "Photocopying and printing", "Photocopying Recovery", "Stationery and Printing", "0.25"),
    ("Courier", "NonInventory", "Courier and delivery", "Courier Recovery", "Courier Costs", "0"),
    ("Travel", "NonInventory", "Travel on client matters", "Travel Recovery", "Travel - Local", "0"),
]

CUSTOMERS = {
    "US": ["Amy's Bird Sanctuary", "Dukes Basketball Camp", "Cool Cars", "Geeta Kalapatapu", "Jeff's Jalopies"],
    "CA": ["O'Neill Holdings Inc.", "Maple Leaf Logistics", "Tremblay & Fils", "Northern Lights Co-op", "Priya Shah"],
    "UK": ["O'Brien Family Trust", "Thames Valley Builders Ltd", "Harriet Clarke", "Kensington Bakery", "Wexford Estates"],
    "AU": ["D'Arcy Vineyards Pty Ltd", "Bondi Surf School", "Li Wei", "Outback Freight", "Harbour Dental"],
    "NZ": ["Te Whare O'Connor Trust", "Kiwi Orchards Ltd", "Aroha Ngata", "Southern Alps Tours", "Harbourside Cafe"],
}


def chart(cc: str) -> list[dict]:
    rows = [
        {"AcctNum": str(n), "Name": name, "AccountType": t, "AccountSubType": st}
        for n, name, t, st in BASE_ACCOUNTS
    ]
    for i, (name, st) in enumerate(TAX_ACCOUNTS[cc]):
        rows.append({"AcctNum": str(2300 + i * 10), "Name": name, "AccountType": "Other Current Liability", "AccountSubType": st})
    for i, (name, st) in enumerate(EXPENSES):
        rows.append({"AcctNum": str(6000 + i * 10), "Name": name, "AccountType": "Expense", "AccountSubType": st})
    for i, (name, st) in enumerate(OTHER_EXPENSES):
        rows.append({"AcctNum": str(8000 + i * 10), "Name": name, "AccountType": "Other Expense", "AccountSubType": st})
    # Two sub-accounts of Legal Fee Income, as a real chart has some.
    rows.append({"AcctNum": "4001", "Name": "Fixed Fee Matters", "AccountType": "Income",
                 "AccountSubType": "ServiceFeeIncome", "Parent": "Legal Fee Income"})
    rows.append({"AcctNum": "4002", "Name": "Hourly Matters", "AccountType": "Income",
                 "AccountSubType": "ServiceFeeIncome", "Parent": "Legal Fee Income"})
    return rows


def customer(name: str, cc: str, info: dict, n: int) -> dict:
    person = " " in name and not any(w in name for w in ("Ltd", "Inc", "Co", "Trust", "Pty", "&", "'", "School", "Cafe"))
    row = {"DisplayName": name, "PrimaryEmailAddr": {"Address": f"accounts{n}@example.{cc.lower()}"},
           "BillAddr": {"Line1": f"{10 + n * 7} High Street", "City": info["city"],
                        "CountrySubDivisionCode": info["region"], "PostalCode": info["postal"], "Country": cc}}
    if person:
        row["GivenName"], row["FamilyName"] = name.split(" ", 1)
    else:
        row["CompanyName"] = name
    return row


def build(cc: str) -> dict:
    info = COUNTRIES[cc]
    return {
        "country": cc,
        "realm_id": info["realm"],
        "company_name": info["name"],
        "currency": {"value": info["currency"][0], "name": info["currency"][1]},
        "address": {"Line1": "1 Sandbox Plaza", "City": info["city"], "CountrySubDivisionCode": info["region"],
                    "PostalCode": info["postal"], "Country": cc},
        "accounts": chart(cc),
        "tax": TAX[cc],
        "items": [
            {"Name": n, "Type": t, "Description": d, "Income": inc, "Expense": exp, "UnitPrice": price}
            for n, t, d, inc, exp, price in ITEMS
        ],
        "customers": [customer(name, cc, info, i) for i, name in enumerate(CUSTOMERS[cc], 1)],
    }


def main() -> None:
    for cc in COUNTRIES:
        out = HERE / cc
        out.mkdir(exist_ok=True)
        (out / "seed.json").write_text(json.dumps(build(cc), indent=1, ensure_ascii=False) + "\n")
        print(cc, len(build(cc)["accounts"]), "accounts")


if __name__ == "__main__":
    main()
